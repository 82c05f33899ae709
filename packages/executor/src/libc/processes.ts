/** Processes: ids, pidfds and signals, waitid, posix_spawn, and the raw probes features.ts uses. */
import koffi from 'koffi';
import { check, checkReturn, f, probe, SYS } from './binding.js';

export function gettid(): number {
  return f.gettid();
}

export function getpid(): number {
  return f.getpid();
}

/** pidfd_open(2): a file descriptor that names one process, immune to PID reuse. */
export function pidfdOpen(pid: number): number {
  return check('pidfd_open', f.syscall2(SYS.pidfd_open, pid, 0), String(pid));
}

/** pidfd_getfd(2) (Linux 5.6+): a duplicate, close-on-exec, of fd `targetFd` of the process `pidfd` names. */
export function pidfdGetfd(pidfd: number, targetFd: number): number {
  return check('pidfd_getfd', f.syscall3(SYS.pidfd_getfd, pidfd, targetFd, 0), String(targetFd));
}

/**
 * A raw system call with arguments that cannot succeed (bad fds, bad pointers), for
 * feature probes: the errno name, ENOSYS meaning the kernel does not have the call.
 */
export function syscallProbe(nr: number, a = -1, b = 0, c = 0): string | 0 {
  return probe(f.syscall3(nr, a, b, c));
}

/** waitid(P_PIDFD) of an fd that is not open: EBADF where P_PIDFD exists (Linux 5.4+), EINVAL where it does not. */
export function waitidPidfdProbe(): string | 0 {
  return probe(f.waitid(P.PIDFD, 0x7fffffff, Buffer.alloc(128), W.EXITED | W.NOHANG));
}


/** pidfd_send_signal(2); sending to a process that is already gone (ESRCH) is not an error. */
export function pidfdSendSignal(pidfd: number, signal: number): void {
  const r = f.syscallPidfdSendSignal(SYS.pidfd_send_signal, pidfd, signal, null, 0);
  if (Number(r) === -1 && koffi.errno() === koffi.os.errno.ESRCH) return;
  check('pidfd_send_signal', r, String(signal));
}

export const P = { PID: 1, PIDFD: 3 } as const;
export const W = { NOHANG: 1, EXITED: 4 } as const;
export const CLD = { EXITED: 1, KILLED: 2, DUMPED: 3 } as const;

/**
 * waitid(2) for one child, named by pid (P.PID) or pidfd (P.PIDFD). Returns undefined
 * when WNOHANG is given and the process still runs, else how it ended: `code` CLD_EXITED
 * with the exit status, or CLD_KILLED / CLD_DUMPED with the signal number.
 */
export function waitid(idtype: number, id: number, options: number): { code: number; status: number } | undefined {
  const info = Buffer.alloc(128);
  for (;;) {
    const r = f.waitid(idtype, id, info, options | W.EXITED);
    if (r === -1 && koffi.errno() === koffi.os.errno.EINTR) continue;
    check('waitid', r, String(id));
    break;
  }
  if (info.readInt32LE(16) === 0) return undefined; // si_pid: nothing has exited yet
  return { code: info.readInt32LE(8), status: info.readInt32LE(24) };
}

/** Opaque glibc structs (80 and 336 bytes on x86_64 and aarch64), with room to spare. */
export function spawnFileActions(): Buffer {
  const b = Buffer.alloc(512);
  checkReturn('posix_spawn_file_actions_init', f.psfaInit(b));
  return b;
}
export function spawnFileActionsDestroy(actions: Buffer): void {
  f.psfaDestroy(actions);
}
export function spawnAddDup2(actions: Buffer, fd: number, newfd: number): void {
  checkReturn('posix_spawn_file_actions_adddup2', f.psfaAdddup2(actions, fd, newfd), `${fd} -> ${newfd}`);
}
export function spawnAddOpen(actions: Buffer, fd: number, path: string, flags: number, mode = 0): void {
  checkReturn('posix_spawn_file_actions_addopen', f.psfaAddopen(actions, fd, path, flags, mode), path);
}
export function spawnAddClose(actions: Buffer, fd: number): void {
  checkReturn('posix_spawn_file_actions_addclose', f.psfaAddclose(actions, fd), String(fd));
}

export const POSIX_SPAWN = { SETSIGDEF: 0x04, SETSIGMASK: 0x08, SETSID: 0x80 } as const;

export function spawnAttr(): Buffer {
  const b = Buffer.alloc(1024);
  checkReturn('posix_spawnattr_init', f.psaInit(b));
  return b;
}
export function spawnAttrDestroy(attr: Buffer): void {
  f.psaDestroy(attr);
}
export function spawnAttrSetflags(attr: Buffer, flags: number): void {
  checkReturn('posix_spawnattr_setflags', f.psaSetflags(attr, flags));
}
/** sigset_t is 1024 bits in glibc. */
export function spawnAttrSetsigmask(attr: Buffer, all: boolean): void {
  checkReturn('posix_spawnattr_setsigmask', f.psaSetsigmask(attr, Buffer.alloc(128, all ? 0xff : 0)));
}
export function spawnAttrSetsigdefault(attr: Buffer, all: boolean): void {
  checkReturn('posix_spawnattr_setsigdefault', f.psaSetsigdefault(attr, Buffer.alloc(128, all ? 0xff : 0)));
}

/**
 * posix_spawn(3): glibc clones with CLONE_VM|CLONE_VFORK from the calling thread, so the
 * child gets this thread's namespaces, root, cwd and credentials, costs no page-table
 * copy of tsbuild's memory, and runs no JavaScript. Exec failures come back as errors.
 */
export function posixSpawn(path: string, argv: readonly string[], envp: readonly string[], actions: Buffer, attr: Buffer): number {
  const pid = [0];
  checkReturn('posix_spawn', f.posixSpawn(pid, path, actions, attr, [...argv, null], [...envp, null]), path);
  return pid[0]!;
}
