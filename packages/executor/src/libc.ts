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
};

/* x86_64 and aarch64 syscall numbers for the calls made raw. */
const SYS = process.arch === 'arm64'
  ? { setgroups: 159, setresuid: 147, setresgid: 149, capget: 90, capset: 91, pivot_root: 41, close_range: 436, setuid: 146, setgid: 144 }
  : { setgroups: 116, setresuid: 117, setresgid: 119, capget: 125, capset: 126, pivot_root: 155, close_range: 436, setuid: 105, setgid: 106 };

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

/** open(2); O_CLOEXEC is always added (SECURITY.md note 5). */
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

/** Mark every fd from `first` on close-on-exec (close_range(2) with CLOSE_RANGE_CLOEXEC). */
export function cloexecFrom(first: number): void {
  check('close_range', f.syscall3(SYS.close_range, first, 0xffffffff, CLOSE_RANGE_CLOEXEC));
}

export { SYS };
