/**
 * How the command of a run joins its cgroup v2 before it runs a single instruction of its
 * own: `tsbuild-enter`, a 150-byte static program kept in a sealed memfd, is what the
 * worker spawns in the command's place. It writes "0" (itself) to the run's
 * cgroup.procs, given as fd 3, then execs the command with the command's argv and
 * environment. cgroup v2 moves whole processes only, and glibc's posix_spawn cannot
 * spawn into a cgroup (clone3's CLONE_INTO_CGROUP needs glibc 2.39), so without this the
 * command would be born in tsbuild's cgroup and could fork or allocate there before
 * anyone moved it.
 *
 * Failures come back like posix_spawn's own: fd 4 is a pipe made close-on-exec by the
 * program, so a successful exec closes it, while a failed step writes two bytes to it
 * (the step: 1 joining, 2 exec; and the errno) before the program exits 127. The write
 * to cgroup.procs is checked against the credentials that opened the fd (root), not the
 * command's (Linux 5.16, and the 5.10/5.15 stable kernels since early 2022).
 *
 * The machine code was assembled with GNU as from the source quoted next to it.
 */
import { readSync, writeSync } from 'node:fs';
import { sealedExecutable, staticElf } from '../elf.js';
import { ExecutorError } from '../errors.js';
import { close, errnoName, F, fcntl, P, pipe2, waitid } from '../libc.js';

/*
 *    mov r12,rsp; mov edi,4; mov esi,2; mov edx,1; mov eax,72; syscall   fcntl(4, F_SETFD, FD_CLOEXEC)
 *    sub rsp,16; mov byte [rsp],'0'
 *    mov edi,3; mov rsi,rsp; mov edx,1; mov eax,1; syscall               write(3, "0", 1)
 *    mov r13d,1; test rax,rax; js 1f
 *    mov edi,3; mov eax,3; syscall                                       close(3)
 *    mov rdi,[r12+16]; lea rsi,[r12+24]; mov rax,[r12]; lea rdx,[r12+rax*8+16]
 *    mov eax,59; syscall                                                 execve(argv[1], &argv[2], envp)
 *    mov r13d,2
 * 1: neg eax; mov [rsp],r13b; mov [rsp+1],al
 *    mov edi,4; mov rsi,rsp; mov edx,2; mov eax,1; syscall               write(4, {step, errno}, 2)
 *    mov edi,127; mov eax,231; syscall                                   exit_group(127)
 */
const X86_64 =
  '4989e4bf04000000be02000000ba01000000b8480000000f054883ec10c6042430bf030000004889e6ba01000000' +
  'b8010000000f0541bd010000004885c0782cbf03000000b8030000000f05498b7c2410498d742418498b0424498d' +
  '54c410b83b0000000f0541bd02000000f7d844882c2488442401bf040000004889e6ba02000000b8010000000f05' +
  'bf7f000000b8e70000000f05';

/*
 *    mov x19,sp; sub sp,sp,#16
 *    mov x0,#4; mov x1,#2; mov x2,#1; mov x8,#25; svc #0                 fcntl(4, F_SETFD, FD_CLOEXEC)
 *    mov w9,#'0'; strb w9,[sp]
 *    mov x0,#3; mov x1,sp; mov x2,#1; mov x8,#64; svc #0                 write(3, "0", 1)
 *    mov x20,#1; tbnz x0,#63,1f
 *    mov x0,#3; mov x8,#57; svc #0                                       close(3)
 *    ldr x0,[x19,#16]; add x1,x19,#24; ldr x9,[x19]; add x2,x19,x9,lsl #3; add x2,x2,#16
 *    mov x8,#221; svc #0                                                 execve(argv[1], &argv[2], envp)
 *    mov x20,#2
 * 1: neg x0,x0; strb w20,[sp]; strb w0,[sp,#1]
 *    mov x0,#4; mov x1,sp; mov x2,#2; mov x8,#64; svc #0                 write(4, {step, errno}, 2)
 *    mov x0,#127; mov x8,#94; svc #0                                     exit_group(127)
 */
const AARCH64 =
  'f3030091ff4300d1800080d2410080d2220080d2280380d2010000d409068052e9030039600080d2e1030091220080' +
  'd2080880d2010000d4340080d28001f8b7600080d2280780d2010000d4600a40f961620091690240f9620e098b4240' +
  '0091a81b80d2010000d4540080d2e00300cbf4030039e0070039800080d2e1030091420080d2080880d2010000d4e0' +
  '0f80d2c80b80d2010000d4';


export function enterElf(arch: string = process.arch): Buffer {
  if (arch === 'x64') return staticElf(Buffer.from(X86_64, 'hex'), 62);
  if (arch === 'arm64') return staticElf(Buffer.from(AARCH64, 'hex'), 183);
  throw new ExecutorError('TSBUILD_SANDBOX_UNSUPPORTED', `cgroup v2 limits support x64 and arm64, not ${arch}`);
}

let sealed: number | undefined;

/**
 * The program as a sealed, close-on-exec memfd, made once per process on the main thread
 * (the fd table is shared: workers execute it as `/proc/self/fd/<fd>`).
 */
export function enterMemfd(): number {
  if (sealed !== undefined) return sealed;
  sealed = sealedExecutable('tsbuild-enter', enterElf());
  return sealed;
}

/** What a spawn function runs instead of the command, and the fds it must place. */
export interface Via {
  path: string;
  /** argv of the program: these, then the command's path, then the command's argv. */
  argv: string[];
  /** [from, to] pairs for posix_spawn_file_actions_adddup2, after the command's own. */
  dup2: Array<[number, number]>;
}

/** A step of tsbuild-enter failed; `errno` is the failed call's error name. */
export class EnterError extends ExecutorError {
  constructor(readonly step: 'join' | 'exec', readonly errno: string) {
    super('TSBUILD_SANDBOX_SETUP', step === 'exec' ? `exec: ${errno}` : `joining the run's cgroup: ${errno}${errno === 'EACCES' || errno === 'EPERM' ? DENIED : ''}`);
    this.name = 'EnterError';
  }
}

/** Before Linux 5.16 (and its stable backports of December 2021) the writer's own credentials were checked. */
const DENIED =
  ' (this kernel checks the credentials of the command, not of tsbuild, which opened cgroup.procs: a command that does not run as root ' +
  'can join a cgroup v2 from Linux 5.16 on, or a stable kernel from December 2021 on)';

/**
 * Spawn through tsbuild-enter: `spawn(via)` must start `via.path` with `via.argv`, then
 * the command's path and argv, and apply `via.dup2`. Returns once the command itself
 * runs, inside the cgroup; throws EnterError when joining or the exec failed.
 */
export function spawnInCgroup<T extends { pidfd: number }>(cgroup: { procsFd: number; enterFd: number }, spawn: (via: Via) => T): T {
  const [reportRead, reportWrite] = pipe2();
  // Sources above 4, so that the dup2 onto 3 cannot clobber the one meant for 4.
  const procs = fcntl(cgroup.procsFd, F.DUPFD_CLOEXEC, 5);
  const report = fcntl(reportWrite, F.DUPFD_CLOEXEC, 5);
  close(reportWrite);
  let spawned: T;
  try {
    spawned = spawn({ path: `/proc/self/fd/${cgroup.enterFd}`, argv: ['tsbuild-enter'], dup2: [[procs, 3], [report, 4]] });
  } catch (err) {
    close(reportRead);
    throw err;
  } finally {
    close(procs);
    close(report);
  }
  const got = Buffer.alloc(2);
  let n: number;
  try {
    n = readSync(reportRead, got, 0, 2, null); // EOF once the command's exec succeeded
  } finally {
    close(reportRead);
  }
  if (n === 0) return spawned;
  waitid(P.PIDFD, spawned.pidfd, 0);
  close(spawned.pidfd);
  throw new EnterError(got[0] === 1 ? 'join' : 'exec', errnoName(got[1] ?? 0));
}

/** Move process `pid` into the cgroup whose cgroup.procs `procsFd` is open on. */
export function joinCgroup(procsFd: number, pid: number): void {
  writeSync(procsFd, String(pid));
}
