/** File descriptors and paths: open/openat/openat2, directories and nodes, close-on-exec, pipes, memfds, sockets, poll. */
import koffi from 'koffi';
import { SyscallError } from '../errors.js';
import { check, errnoName, f, probe, SYS } from './binding.js';

export const O = { RDONLY: 0, WRONLY: 1, RDWR: 2, CREAT: 0o100, EXCL: 0o200, NOFOLLOW: 0o400000, DIRECTORY: 0o200000, CLOEXEC: 0o2000000, PATH: 0o10000000 } as const;

export function getcwd(): string {
  const buf = Buffer.alloc(4096);
  const r = f.getcwd(buf, buf.length);
  if (r === null) {
    const n = koffi.errno();
    throw new SyscallError('getcwd', errnoName(n), n);
  }
  return buf.subarray(0, buf.indexOf(0)).toString();
}

/** open(2); O_CLOEXEC is always added, so no fd of ours leaks into a sandboxed process. */
export function open(path: string, flags: number, mode = 0): number {
  return check('open', f.open(path, flags | O.CLOEXEC, mode), path);
}

export function close(fd: number): void {
  check('close', f.close(fd));
}

export function mkdir(path: string, mode = 0o755): void {
  const r = f.mkdir(path, mode);
  if (r === -1 && koffi.errno() === koffi.os.errno.EEXIST) return;
  check('mkdir', r, path);
}

export function mknod(path: string, mode: number, dev: bigint): void {
  check('mknod', f.mknod(path, mode, dev), path);
}

export function symlink(target: string, path: string): void {
  check('symlink', f.symlink(target, path), path);
}

export function umask(mask: number): number {
  return f.umask(mask);
}

export const CLOSE_RANGE_CLOEXEC = 4;

/** Mark every fd from `first` on close-on-exec (close_range(2) with CLOSE_RANGE_CLOEXEC, Linux 5.11+). */
export function cloexecFrom(first: number): void {
  check('close_range', f.syscall3(SYS.close_range, first, 0xffffffff, CLOSE_RANGE_CLOEXEC));
}

/** close_range(first, last, flags) as a raw call, for feature probes: 0 or the errno name. */
export function closeRangeProbe(first: number, last: number, flags: number): string | 0 {
  return probe(f.syscall3(SYS.close_range, first, last, flags));
}

/** Set FD_CLOEXEC on one fd; false when it is not open (any more). */
export function setCloexec(fd: number): boolean {
  const r = f.fcntl(fd, F.SETFD, FD_CLOEXEC);
  if (r === -1 && koffi.errno() === koffi.os.errno.EBADF) return false;
  check('fcntl(F_SETFD)', r, String(fd));
  return true;
}

export const AT = { FDCWD: -100, SYMLINK_NOFOLLOW: 0x100, REMOVEDIR: 0x200, EMPTY_PATH: 0x1000, RECURSIVE: 0x8000 } as const;

/** openat(2) relative to a directory fd; O_CLOEXEC is always added. */
export function openat(dirfd: number, path: string, flags: number, mode = 0): number {
  return check('openat', f.openat(dirfd, path, flags | O.CLOEXEC, mode), path);
}

export function mkdirat(dirfd: number, path: string, mode: number): void {
  check('mkdirat', f.mkdirat(dirfd, path, mode), path);
}

export function unlinkat(dirfd: number, path: string, flags = 0): void {
  check('unlinkat', f.unlinkat(dirfd, path, flags), path);
}

export const RESOLVE = { NO_XDEV: 0x01, NO_MAGICLINKS: 0x02, NO_SYMLINKS: 0x04, BENEATH: 0x08, IN_ROOT: 0x10 } as const;

/** openat2(2): open `path` below `dirfd` under the given RESOLVE_* rules; O_CLOEXEC is always added. */
export function openat2(dirfd: number, path: string, how: { flags: number; mode?: number; resolve: number }): number {
  const h = BigUint64Array.from([BigInt(how.flags | O.CLOEXEC), BigInt(how.mode ?? 0), BigInt(how.resolve)]);
  return check('openat2', f.syscallOpenat2(SYS.openat2, dirfd, path, h, 24), path);
}

export const AF_INET = 2;
export const SOCK = { DGRAM: 2, CLOEXEC: 0o2000000 } as const;

/** socket(2); SOCK_CLOEXEC is always added. */
export function socket(domain: number, type: number, protocol = 0): number {
  return check('socket', f.socket(domain, type | SOCK.CLOEXEC, protocol));
}

/** ioctl(2) whose argument is a buffer the kernel reads and may write (struct ifreq and the like). */
export function ioctl(fd: number, request: number, arg: Uint8Array): number {
  return check('ioctl', f.ioctlBuf(fd, request, arg), `0x${request.toString(16)}`);
}

export const MFD = { CLOEXEC: 1, ALLOW_SEALING: 2, EXEC: 0x10 } as const;
export const F = { SETFD: 2, DUPFD_CLOEXEC: 1030, ADD_SEALS: 1033 } as const;
export const FD_CLOEXEC = 1;
export const F_SEAL = { SEAL: 1, SHRINK: 2, GROW: 4, WRITE: 8 } as const;

/** memfd_create(2); MFD_CLOEXEC is always added. */
export function memfdCreate(name: string, flags: number): number {
  return check('memfd_create', f.memfdCreate(name, flags | MFD.CLOEXEC), name);
}

/** fcntl(2) with an integer argument. */
export function fcntl(fd: number, cmd: number, arg: number): number {
  return check('fcntl', f.fcntl(fd, cmd, arg), String(cmd));
}

/** pipe2(2); O_CLOEXEC is always added. Returns [read end, write end]. */
export function pipe2(flags = 0): [number, number] {
  const fds = new Int32Array(2);
  check('pipe2', f.pipe2(fds, flags | O.CLOEXEC));
  return [fds[0]!, fds[1]!];
}

export const POLLIN = 0x1;

/**
 * poll(2) on one fd: true when one of `events` (or POLLHUP/POLLERR) is pending, false when
 * `timeoutMs` passed first (-1: no timeout). Interrupted waits resume with the full timeout.
 */
export function pollOne(fd: number, events: number, timeoutMs: number): boolean {
  const pfd = Buffer.alloc(8); // struct pollfd { int fd; short events; short revents; }
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(events, 4);
  for (;;) {
    const r = f.poll(pfd, 1, timeoutMs);
    if (r === -1 && koffi.errno() === koffi.os.errno.EINTR) continue;
    return check('poll', r, String(fd)) > 0;
  }
}
