/**
 * The overlay root filesystem. `index`, `redirect_dir` and `metacopy` are off so the
 * upper dir stays a faithful diff (a renamed lower directory is copied, never recorded as
 * a redirect). Mounted `nodev`, see mounts.ts. Overlayfs stacks at most 500 lower layers.
 *
 * - Linux 6.8+: layers are added one by one with `lowerdir+`, so their paths have no
 *   total length limit; a path longer than fsconfig's 255-byte strings is given as
 *   /proc/self/fd/N of an O_PATH fd (the kernel follows it when it parses the option).
 * - Before: mount(2) with one `lowerdir=a:b:c,upperdir=...` string, which must fit in a
 *   page. When the paths are too long for that, every directory is opened O_PATH and
 *   named by its fd number, relative to /proc/self/fd as the thread's working directory
 *   (as containerd names layers relative to a common parent): 500 layers fit.
 */
import type { KernelFeatures } from '../features.js';
import { AT, chdir, close, fchdir, FSCONFIG, fsconfig, fsmount, fsopen, mount, MOUNT_ATTR, moveMount, MOVE_MOUNT, MS, O, open } from '../libc.js';
import type { SandboxPlan } from '../protocol.js';
import { withFsLog } from './mounts.js';
import { SetupError, UnsupportedError } from './setup-error.js';

const MAX_FSCONFIG_STRING = 255;
/** The kernel copies one page of mount(2) options; 4096 bytes is the smallest page. */
const MOUNT_DATA_MAX = 4096;
/** OVL_MAX_STACK. */
export const MAX_LOWER_LAYERS = 500;

type Rootfs = SandboxPlan['rootfs'];

/**
 * `userxattr`: in a user namespace (rootless) overlayfs cannot use trusted.* xattrs, so
 * it reads and writes user.overlay.* (opaque dirs: user.overlay.opaque, as the store
 * writes its snapshots there; Linux 5.11+, which is also when overlayfs can be mounted
 * in a user namespace at all).
 */
export function mountRootfs(r: Rootfs, mountpoint: string, kernel: Pick<KernelFeatures, 'overlayAppend'>, userxattr = false): void {
  if (r.lowerdirs.length === 0) throw new SetupError('the rootfs needs at least one lower directory');
  if (r.lowerdirs.length > MAX_LOWER_LAYERS) throw new SetupError(`the rootfs has ${r.lowerdirs.length} layers; overlayfs stacks at most ${MAX_LOWER_LAYERS}`);
  try {
    if (kernel.overlayAppend) appendOverlay(r, mountpoint, userxattr);
    else legacyOverlay(r, mountpoint, userxattr);
  } catch (err) {
    if (!userxattr || (err as { cause?: { errno?: string } }).cause?.errno !== 'EPERM') throw err;
    throw new UnsupportedError('this kernel refuses overlayfs in a user namespace (rootless needs Linux 5.11+ with overlayfs mountable by unprivileged users)', err);
  }
}

/** Open each directory O_PATH (an error names the one that failed); all closed on failure. */
function openDirs(r: Rootfs): number[] {
  const fds: number[] = [];
  try {
    for (const [what, dir] of [...r.lowerdirs.map((l) => ['lower dir', l]), ['upper dir', r.upperdir], ['work dir', r.workdir]] as const) {
      try {
        fds.push(open(dir, O.PATH | O.DIRECTORY));
      } catch (err) {
        throw new SetupError(`overlay ${what} ${dir}`, err);
      }
    }
    return fds;
  } catch (err) {
    for (const fd of fds) close(fd);
    throw err;
  }
}

function appendOverlay(r: Rootfs, mountpoint: string, userxattr: boolean): void {
  const fds: number[] = [];
  /** A path fsconfig can take: itself, or when too long the magic link of an O_PATH fd. */
  const short = (p: string) => {
    if (Buffer.byteLength(p) <= MAX_FSCONFIG_STRING) return p;
    const fd = open(p, O.PATH | O.DIRECTORY);
    fds.push(fd);
    return `/proc/self/fd/${fd}`;
  };
  const fs = fsopen('overlay');
  let fd: number;
  try {
    for (const l of r.lowerdirs) {
      try {
        fsconfig(fs, FSCONFIG.SET_STRING, 'lowerdir+', short(l));
      } catch (err) {
        throw new SetupError(`overlay lower dir ${l}`, withFsLog(fs, err));
      }
    }
    try {
      fsconfig(fs, FSCONFIG.SET_STRING, 'upperdir', short(r.upperdir));
      fsconfig(fs, FSCONFIG.SET_STRING, 'workdir', short(r.workdir));
      // userxattr refuses redirect_dir=off (which means "follow" when the module's
      // redirect_always_follow is on): nofollow, which creates no redirects either.
      for (const o of ['index', 'redirect_dir', 'metacopy']) fsconfig(fs, FSCONFIG.SET_STRING, o, o === 'redirect_dir' && userxattr ? 'nofollow' : 'off');
      if (userxattr) fsconfig(fs, FSCONFIG.SET_FLAG, 'userxattr');
      fsconfig(fs, FSCONFIG.CMD_CREATE);
      fd = fsmount(fs, MOUNT_ATTR.NODEV);
    } catch (err) {
      throw new SetupError('overlay rootfs', withFsLog(fs, err));
    }
  } finally {
    close(fs);
    for (const f of fds) close(f);
  }
  try {
    moveMount(fd, '', AT.FDCWD, mountpoint, MOVE_MOUNT.F_EMPTY_PATH);
  } finally {
    close(fd);
  }
}

const escape = (p: string) => p.replace(/([\\:,])/g, '\\$1');
const options = (lower: string[], upper: string, work: string, userxattr: boolean) =>
  `lowerdir=${lower.join(':')},upperdir=${upper},workdir=${work},index=off,redirect_dir=${userxattr ? 'nofollow' : 'off'},metacopy=off${userxattr ? ',userxattr' : ''}`;

/** The legacy option string: full paths if they fit in a page, else fd numbers (relative to /proc/self/fd). */
export function legacyOptions(r: Rootfs, fds: number[], userxattr = false): { data: string; byFd: boolean } {
  const full = options(r.lowerdirs.map(escape), escape(r.upperdir), escape(r.workdir), userxattr);
  if (Buffer.byteLength(full) < MOUNT_DATA_MAX) return { data: full, byFd: false };
  const names = fds.map(String);
  const data = options(names.slice(0, -2), names.at(-2)!, names.at(-1)!, userxattr);
  if (data.length >= MOUNT_DATA_MAX) {
    throw new UnsupportedError(`the rootfs's ${r.lowerdirs.length} layers do not fit in one page of overlayfs mount options on this kernel; Linux 6.8+ (overlayfs lowerdir+) has no such limit`);
  }
  return { data, byFd: true };
}

function legacyOverlay(r: Rootfs, mountpoint: string, userxattr: boolean): void {
  const fds = openDirs(r);
  let cwd = -1;
  try {
    const { data, byFd } = legacyOptions(r, fds, userxattr);
    if (byFd) {
      cwd = open('.', O.PATH | O.DIRECTORY);
      chdir('/proc/self/fd');
    }
    mount('overlay', mountpoint, 'overlay', MS.NODEV, data);
  } catch (err) {
    if (err instanceof SetupError || err instanceof UnsupportedError) throw err;
    // mount(2) has no message log like fsconfig's: overlayfs writes the reason to the kernel log.
    throw new SetupError((err as { errno?: string }).errno === 'EINVAL' ? 'overlay rootfs (the kernel log says why: dmesg)' : 'overlay rootfs', err);
  } finally {
    if (cwd >= 0) {
      fchdir(cwd);
      close(cwd);
    }
    for (const fd of fds) close(fd);
  }
}
