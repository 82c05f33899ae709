/**
 * The sandbox's PID 1: a static program of under 300 bytes, kept in a sealed memfd.
 *
 * Why it exists: /proc must show the sandbox's PID namespace, and the kernel only hands
 * out a PID namespace that already has a process in it (`/proc/thread-self/ns/pid_for_children`
 * is ENOENT until the namespace's init exists). The worker therefore starts this init
 * first, mounts /proc for its namespace, finishes the setup and then starts the command
 * as PID 2. Where procfs has `pidns=` (Linux 6.15+) the worker mounts /proc from outside;
 * on older kernels the init, started with an argument, opens the proc filesystem context
 * itself and the worker takes it with pidfd_getfd (see init-code.ts).
 *
 * What it does: PR_SET_PDEATHSIG(SIGKILL), so it dies with the worker thread that
 * started it; SIGCHLD ignored, so the kernel reaps the orphans it inherits (like
 * `docker run --init`); then it reads its stdin, a pipe whose only writer is tsbuild,
 * and exits at EOF. When the command exits the worker closes that pipe; if tsbuild dies
 * (even by `kill -9`) the kernel closes it. Either way the init exits and the kernel
 * kills every other process of the PID namespace. It touches no path, so running a host
 * binary inside the sandbox is harmless; the memfd is sealed against writes
 * (CVE-2019-5736), and the init keeps full capabilities, so processes of the sandbox
 * (no CAP_SYS_PTRACE) cannot open its /proc/1/{exe,cwd,root,fd} or take its fds.
 */
import { ExecutorError } from './errors.js';
import { sealedExecutable, staticElf } from './elf.js';
import { INIT_CODE } from './init-code.js';

/** The init as an executable (elf.ts). */
export function initElf(arch: string = process.arch): Buffer {
  const spec = arch === 'x64' || arch === 'arm64' ? INIT_CODE[arch] : undefined;
  if (!spec) throw new ExecutorError('TSBUILD_SANDBOX_UNSUPPORTED', `the sandbox supports x64 and arm64, not ${arch}`);
  return staticElf(Buffer.from(spec.hex, 'hex'), spec.machine);
}

let sealed: number | undefined;

/**
 * The init as a sealed, close-on-exec memfd, created once per process. The fd table is
 * shared by all threads, so workers execute it as `/proc/self/fd/<fd>`.
 */
export function initMemfd(): number {
  if (sealed !== undefined) return sealed;
  sealed = sealedExecutable('tsbuild-init', initElf());
  return sealed;
}
