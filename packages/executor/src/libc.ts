/**
 * libc through koffi: one binding per function, errno turned into a SyscallError
 * naming the call. Calls that change credentials go through raw syscall(2) on
 * purpose: glibc's setuid()/setgid()/setgroups() change every thread of the process
 * (tsbuild itself), the raw syscalls only the calling thread, which is what a
 * sandbox launcher thread needs.
 */
import koffi from 'koffi';
import { SyscallError } from './errors.js';

const lib = koffi.load('libc.so.6');

const errnoNames = new Map<number, string>(Object.entries(koffi.os.errno).map(([k, v]) => [v, k]));

export function errnoName(n: number): string {
  return errnoNames.get(n) ?? `errno ${n}`;
}

function check(call: string, ret: number | bigint, detail?: string): number {
  const r = Number(ret);
  if (r === -1) {
    const n = koffi.errno();
    throw new SyscallError(call, errnoName(n), n, detail);
  }
  return r;
}

koffi.struct('tsbuild_sock_fprog', { len: 'uint16_t', filter: 'uint8_t *' });

const f = {
  unshare: lib.func('int unshare(int flags)'),
  setns: lib.func('int setns(int fd, int nstype)'),
  mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
  umount2: lib.func('int umount2(const char *target, int flags)'),
  syscall1: lib.func('long syscall(long n, long a)'),
  syscall2: lib.func('long syscall(long n, long a, long b)'),
  syscall3: lib.func('long syscall(long n, long a, long b, long c)'),
  syscallPtr2: lib.func('long syscall(long n, const char *a, const char *b)'),
  syscallSetgroups: lib.func('long syscall(long n, long size, const uint32_t *list)'),
  syscallCap: lib.func('long syscall(long n, _Inout_ uint32_t *hdr, _Inout_ uint32_t *data)'),
  prctl: lib.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)'),
  sethostname: lib.func('int sethostname(const char *name, size_t len)'),
  chdir: lib.func('int chdir(const char *path)'),
  fchdir: lib.func('int fchdir(int fd)'),
  chroot: lib.func('int chroot(const char *path)'),
  getcwd: lib.func('char *getcwd(_Out_ uint8_t *buf, size_t size)'),
  open: lib.func('int open(const char *path, int flags, uint32_t mode)'),
  close: lib.func('int close(int fd)'),
  mkdir: lib.func('int mkdir(const char *path, uint32_t mode)'),
  mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
  symlink: lib.func('int symlink(const char *target, const char *linkpath)'),
  gettid: lib.func('int gettid()'),
  getpid: lib.func('int getpid()'),
  umask: lib.func('uint32_t umask(uint32_t mask)'),
  openat: lib.func('int openat(int dirfd, const char *path, int flags, uint32_t mode)'),
  mkdirat: lib.func('int mkdirat(int dirfd, const char *path, uint32_t mode)'),
  unlinkat: lib.func('int unlinkat(int dirfd, const char *path, int flags)'),
  socket: lib.func('int socket(int domain, int type, int protocol)'),
  ioctlBuf: lib.func('int ioctl(int fd, unsigned long request, _Inout_ uint8_t *arg)'),
  memfdCreate: lib.func('int memfd_create(const char *name, unsigned int flags)'),
  fcntl: lib.func('int fcntl(int fd, int cmd, int arg)'),
  pipe2: lib.func('int pipe2(int *fds, int flags)'),
  poll: lib.func('int poll(_Inout_ uint8_t *fds, unsigned long nfds, int timeout)'),
  waitid: lib.func('int waitid(int idtype, int id, uint8_t *info, int options)'),
  posixSpawn: lib.func('int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)'),
  psfaInit: lib.func('int posix_spawn_file_actions_init(void *actions)'),
  psfaDestroy: lib.func('int posix_spawn_file_actions_destroy(void *actions)'),
  psfaAdddup2: lib.func('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)'),
  psfaAddopen: lib.func('int posix_spawn_file_actions_addopen(void *actions, int fd, const char *path, int flags, uint32_t mode)'),
  psfaAddclose: lib.func('int posix_spawn_file_actions_addclose(void *actions, int fd)'),
  psaInit: lib.func('int posix_spawnattr_init(void *attr)'),
  psaDestroy: lib.func('int posix_spawnattr_destroy(void *attr)'),
  psaSetflags: lib.func('int posix_spawnattr_setflags(void *attr, short flags)'),
  psaSetsigmask: lib.func('int posix_spawnattr_setsigmask(void *attr, const uint8_t *set)'),
  psaSetsigdefault: lib.func('int posix_spawnattr_setsigdefault(void *attr, const uint8_t *set)'),
  syscallSeccomp: lib.func('long syscall(long n, unsigned int op, unsigned int flags, const tsbuild_sock_fprog *prog)'),
  syscallOpenTree: lib.func('long syscall(long n, int dfd, const char *path, unsigned int flags)'),
  syscallMoveMount: lib.func('long syscall(long n, int fromDfd, const char *fromPath, int toDfd, const char *toPath, unsigned int flags)'),
  syscallFsopen: lib.func('long syscall(long n, const char *fsname, unsigned int flags)'),
  syscallFsconfig: lib.func('long syscall(long n, int fd, unsigned int cmd, const char *key, const char *value, int aux)'),
  syscallFsmount: lib.func('long syscall(long n, int fd, unsigned int flags, unsigned int attrs)'),
  syscallMountSetattr: lib.func('long syscall(long n, int dfd, const char *path, unsigned int flags, const uint64_t *attr, size_t size)'),
  syscallOpenat2: lib.func('long syscall(long n, int dfd, const char *path, const uint64_t *how, size_t size)'),
  syscallPidfdSendSignal: lib.func('long syscall(long n, int pidfd, int sig, void *info, unsigned int flags)'),
};

/* x86_64 and aarch64 syscall numbers for the calls made raw. */
const SYS = {
  ...(process.arch === 'arm64'
    ? { setgroups: 159, setresuid: 147, setresgid: 149, capget: 90, capset: 91, pivot_root: 41, setuid: 146, setgid: 144, seccomp: 277 }
    : { setgroups: 116, setresuid: 117, setresgid: 119, capget: 125, capset: 126, pivot_root: 155, setuid: 105, setgid: 106, seccomp: 317 }),
  /* The calls added since Linux 5.x share one number on every architecture. */
  pidfd_send_signal: 424,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  pidfd_open: 434,
  close_range: 436,
  openat2: 437,
  pidfd_getfd: 438,
  mount_setattr: 442,
} as const;

export const CLONE = {
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
  FILES: 0x00000400,
  FS: 0x00000200,
} as const;

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  REMOUNT: 32,
  NOATIME: 1024,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  STRICTATIME: 1 << 24,
} as const;

export const MNT_DETACH = 2;

export const O = { RDONLY: 0, WRONLY: 1, RDWR: 2, CREAT: 0o100, EXCL: 0o200, NOFOLLOW: 0o400000, DIRECTORY: 0o200000, CLOEXEC: 0o2000000, PATH: 0o10000000 } as const;

export const PR = { SET_PDEATHSIG: 1, CAPBSET_READ: 23, CAPBSET_DROP: 24, SET_NO_NEW_PRIVS: 38, CAP_AMBIENT: 47 } as const;
export const PR_CAP_AMBIENT_CLEAR_ALL = 4;

export function unshare(flags: number): void {
  check('unshare', f.unshare(flags), `0x${flags.toString(16)}`);
}

export function setns(fd: number, nstype: number): void {
  check('setns', f.setns(fd, nstype));
}

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  check('mount', f.mount(source, target, fstype, flags, data), `${fstype ?? source ?? ''} on ${target}`);
}

export function umount2(target: string, flags = 0): void {
  check('umount2', f.umount2(target, flags), target);
}

export function pivotRoot(newRoot: string, putOld: string): void {
  check('pivot_root', f.syscallPtr2(SYS.pivot_root, newRoot, putOld), newRoot);
}

/** Set uid/gid/groups of the calling thread only (raw syscalls; see the file comment). */
export function setThreadGroups(groups: readonly number[]): void {
  check('setgroups', f.syscallSetgroups(SYS.setgroups, groups.length, Uint32Array.from(groups)));
}

export function setThreadResgid(gid: number): void {
  check('setresgid', f.syscall3(SYS.setresgid, gid, gid, gid), String(gid));
}

export function setThreadResuid(uid: number): void {
  check('setresuid', f.syscall3(SYS.setresuid, uid, uid, uid), String(uid));
}

const CAP_VERSION_3 = 0x20080522;

/** Capability sets of the calling thread (64-bit masks). */
export function capget(): { effective: bigint; permitted: bigint; inheritable: bigint } {
  const hdr = Uint32Array.from([CAP_VERSION_3, 0]);
  const data = new Uint32Array(6);
  check('capget', f.syscallCap(SYS.capget, hdr, data));
  const join = (lo: number, hi: number) => (BigInt(hi) << 32n) | BigInt(lo);
  return { effective: join(data[0]!, data[3]!), permitted: join(data[1]!, data[4]!), inheritable: join(data[2]!, data[5]!) };
}

/** Set the calling thread's capability sets. */
export function capset(sets: { effective: bigint; permitted: bigint; inheritable: bigint }): void {
  const lo = (v: bigint) => Number(v & 0xffffffffn);
  const hi = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
  const hdr = Uint32Array.from([CAP_VERSION_3, 0]);
  const data = Uint32Array.from([lo(sets.effective), lo(sets.permitted), lo(sets.inheritable), hi(sets.effective), hi(sets.permitted), hi(sets.inheritable)]);
  check('capset', f.syscallCap(SYS.capset, hdr, data));
}

export function prctl(option: number, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
  return check('prctl', f.prctl(option, a2, a3, a4, a5), String(option));
}

/** Drop one capability from the calling thread's bounding set. */
export function dropBoundingCap(cap: number): void {
  const r = f.prctl(PR.CAPBSET_DROP, cap, 0, 0, 0);
  if (r === -1 && koffi.errno() !== koffi.os.errno.EINVAL) check('prctl(PR_CAPBSET_DROP)', r, String(cap));
}

export function sethostname(name: string): void {
  const b = Buffer.from(name);
  check('sethostname', f.sethostname(name, b.length), name);
}

export function chdir(path: string): void {
  check('chdir', f.chdir(path), path);
}

export function fchdir(fd: number): void {
  check('fchdir', f.fchdir(fd));
}

export function chroot(path: string): void {
  check('chroot', f.chroot(path), path);
}

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

export function gettid(): number {
  return f.gettid();
}

export function getpid(): number {
  return f.getpid();
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

/* The mount API of Linux 5.2+ (fsopen, fsconfig, fsmount, open_tree, move_mount, mount_setattr). */
export const OPEN_TREE = { CLONE: 1, CLOEXEC: O.CLOEXEC } as const;
export const MOVE_MOUNT = { F_SYMLINKS: 0x01, F_EMPTY_PATH: 0x04, T_SYMLINKS: 0x10, T_EMPTY_PATH: 0x40 } as const;
export const FSCONFIG = { SET_FLAG: 0, SET_STRING: 1, SET_FD: 5, CMD_CREATE: 6 } as const;
export const MOUNT_ATTR = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, STRICTATIME: 0x20, NOSYMFOLLOW: 0x200000 } as const;

/** open_tree(2): with OPEN_TREE_CLONE, a detached copy of the mount at `path` (a bind mount in the making). */
export function openTree(dirfd: number, path: string, flags: number): number {
  return check('open_tree', f.syscallOpenTree(SYS.open_tree, dirfd, path, flags | OPEN_TREE.CLOEXEC), path);
}

export function moveMount(fromDirfd: number, fromPath: string, toDirfd: number, toPath: string, flags: number): void {
  check('move_mount', f.syscallMoveMount(SYS.move_mount, fromDirfd, fromPath, toDirfd, toPath, flags), toPath);
}

/** fsopen(2): a filesystem context for `fsname`; always FSOPEN_CLOEXEC. */
export function fsopen(fsname: string): number {
  return check('fsopen', f.syscallFsopen(SYS.fsopen, fsname, 1), fsname);
}

/** fsconfig(2): set a parameter (`value` for SET_STRING, `aux` for SET_FD) or run a command. */
export function fsconfig(fd: number, cmd: number, key: string | null = null, value: string | null = null, aux = 0): void {
  check('fsconfig', f.syscallFsconfig(SYS.fsconfig, fd, cmd, key, value, aux), key === null ? `cmd ${cmd}` : value === null ? key : `${key}=${value}`);
}

/** fsmount(2): turn a created filesystem context into a detached mount; always FSMOUNT_CLOEXEC. */
export function fsmount(fd: number, attrs: number): number {
  return check('fsmount', f.syscallFsmount(SYS.fsmount, fd, 1, attrs));
}

/** mount_setattr(2) (Linux 5.12+): change mount attributes (MOUNT_ATTR_*) of the mount at dirfd/path. */
export function mountSetattr(dirfd: number, path: string, flags: number, attr: { set?: number; clear?: number }): void {
  check('mount_setattr', mountSetattrRaw(dirfd, path, flags, attr), path);
}

function mountSetattrRaw(dirfd: number, path: string, flags: number, attr: { set?: number; clear?: number }): number | bigint {
  const a = BigUint64Array.from([BigInt(attr.set ?? 0), BigInt(attr.clear ?? 0), 0n, 0n]);
  return f.syscallMountSetattr(SYS.mount_setattr, dirfd, path, flags, a, 32);
}

/** mount_setattr on a bad fd, for feature probes: EBADF where the call exists, ENOSYS where not. */
export function mountSetattrProbe(): string | 0 {
  return probe(mountSetattrRaw(-1, '', AT.EMPTY_PATH, {}));
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

function probe(ret: number | bigint): string | 0 {
  return Number(ret) === -1 ? errnoName(koffi.errno()) : 0;
}

/** pidfd_send_signal(2); sending to a process that is already gone (ESRCH) is not an error. */
export function pidfdSendSignal(pidfd: number, signal: number): void {
  const r = f.syscallPidfdSendSignal(SYS.pidfd_send_signal, pidfd, signal, null, 0);
  if (Number(r) === -1 && koffi.errno() === koffi.os.errno.ESRCH) return;
  check('pidfd_send_signal', r, String(signal));
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

/* posix_spawn(3) and its attribute and file-action calls return an error number. */
function checkReturn(call: string, r: number, detail?: string): void {
  if (r !== 0) throw new SyscallError(call, errnoName(r), r, detail);
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

/**
 * seccomp(SECCOMP_SET_MODE_FILTER) for the calling thread only (no TSYNC): `program` is
 * an array of 8-byte `struct sock_filter`. Without no_new_privs it needs CAP_SYS_ADMIN.
 */
export function seccompSetFilter(program: Buffer): void {
  check('seccomp', f.syscallSeccomp(SYS.seccomp, 1, 0, { len: program.length / 8, filter: program }));
}

export { SYS };
