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
import { writeSync } from 'node:fs';
import { ExecutorError } from './errors.js';
import { INIT_CODE } from './init-code.js';
import { F, F_SEAL, fcntl, MFD, memfdCreate } from './libc.js';

const BASE = 0x400000n;
const HEADERS = 64 + 56;

/** A minimal ELF64 executable: one header, one R+X PT_LOAD segment, entry right after the headers. */
export function initElf(arch: string = process.arch): Buffer {
  const spec = arch === 'x64' || arch === 'arm64' ? INIT_CODE[arch] : undefined;
  if (!spec) throw new ExecutorError('TSBUILD_SANDBOX_UNSUPPORTED', `the sandbox supports x64 and arm64, not ${arch}`);
  const code = Buffer.from(spec.hex, 'hex');
  const h = Buffer.alloc(HEADERS);
  h.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]); // ELF, 64-bit, little endian, version 1, SysV
  h.writeUInt16LE(2, 16); // ET_EXEC
  h.writeUInt16LE(spec.machine, 18);
  h.writeUInt32LE(1, 20);
  h.writeBigUInt64LE(BASE + BigInt(HEADERS), 24); // e_entry
  h.writeBigUInt64LE(64n, 32); // e_phoff
  h.writeUInt16LE(64, 52); // e_ehsize
  h.writeUInt16LE(56, 54); // e_phentsize
  h.writeUInt16LE(1, 56); // e_phnum
  const size = BigInt(HEADERS + code.length);
  h.writeUInt32LE(1, 64); // PT_LOAD
  h.writeUInt32LE(5, 68); // PF_R | PF_X
  h.writeBigUInt64LE(0n, 72); // p_offset
  h.writeBigUInt64LE(BASE, 80); // p_vaddr
  h.writeBigUInt64LE(BASE, 88); // p_paddr
  h.writeBigUInt64LE(size, 96); // p_filesz
  h.writeBigUInt64LE(size, 104); // p_memsz
  h.writeBigUInt64LE(0x10000n, 112); // p_align (covers 64 KiB pages)
  return Buffer.concat([h, code]);
}

let sealed: number | undefined;

/**
 * The init as a sealed, close-on-exec memfd, created once per process. The fd table is
 * shared by all threads, so workers execute it as `/proc/self/fd/<fd>`.
 */
export function initMemfd(): number {
  if (sealed !== undefined) return sealed;
  let fd: number;
  try {
    // MFD_EXEC (Linux 6.3+) keeps the memfd executable under vm.memfd_noexec=1.
    fd = memfdCreate('tsbuild-init', MFD.ALLOW_SEALING | MFD.EXEC);
  } catch (err) {
    if ((err as { errno?: string }).errno !== 'EINVAL') throw err;
    fd = memfdCreate('tsbuild-init', MFD.ALLOW_SEALING);
  }
  const elf = initElf();
  writeSync(fd, elf, 0, elf.length, 0);
  fcntl(fd, F.ADD_SEALS, F_SEAL.SEAL | F_SEAL.SHRINK | F_SEAL.GROW | F_SEAL.WRITE);
  sealed = fd;
  return fd;
}
