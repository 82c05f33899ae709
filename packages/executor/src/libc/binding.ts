/**
 * The binding itself: libc loaded through koffi, one declaration per function (`f`), the
 * raw syscall numbers (`SYS`), and errno turned into a SyscallError naming the call.
 * Calls that change credentials go through raw syscall(2) on purpose: glibc's
 * setuid()/setgid()/setgroups() change every thread of the process (tsbuild itself), the
 * raw syscalls only the calling thread, which is what a sandbox launcher thread needs.
 */
import koffi from 'koffi';
import { SyscallError } from '../errors.js';

const lib = koffi.load('libc.so.6');

const errnoNames = new Map<number, string>(Object.entries(koffi.os.errno).map(([k, v]) => [v, k]));

export function errnoName(n: number): string {
  return errnoNames.get(n) ?? `errno ${n}`;
}

export function check(call: string, ret: number | bigint, detail?: string): number {
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

export function probe(ret: number | bigint): string | 0 {
  return Number(ret) === -1 ? errnoName(koffi.errno()) : 0;
}

/* posix_spawn(3) and its attribute and file-action calls return an error number. */
export function checkReturn(call: string, r: number, detail?: string): void {
  if (r !== 0) throw new SyscallError(call, errnoName(r), r, detail);
}

export { f, SYS };
