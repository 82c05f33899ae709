/** Namespaces, mounts (the classic mount(2) and the file-descriptor mount API), root and cwd. */
import { check, f, probe, SYS } from './binding.js';
import { AT, O } from './files.js';

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
