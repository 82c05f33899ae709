/**
 * The overlay root filesystem. Layers are added one by one with `lowerdir+` (Linux 6.8+),
 * so there is no limit on their number (the classic `lowerdir=a:b:c` string must fit in
 * one page, about 60 store snapshots); a path longer than fsconfig's 255-byte strings is
 * passed as an O_PATH fd instead (Linux 6.13+). `index`, `redirect_dir` and `metacopy`
 * are off so the upper dir stays a faithful diff (a renamed lower
 * directory is copied, never recorded as a redirect). Mounted `nodev`, see mounts.ts.
 */
import { AT, close, FSCONFIG, fsconfig, fsmount, fsopen, mount, MOUNT_ATTR, moveMount, MOVE_MOUNT, MS, O, open } from '../libc.js';
import type { SandboxPlan } from '../protocol.js';
import { withFsLog } from './mounts.js';
import { SetupError, UnsupportedError } from './setup-error.js';

const MAX_FSCONFIG_STRING = 255;

function setPath(fs: number, key: string, path: string): void {
  if (Buffer.byteLength(path) <= MAX_FSCONFIG_STRING) {
    fsconfig(fs, FSCONFIG.SET_STRING, key, path);
    return;
  }
  const fd = open(path, O.PATH | O.DIRECTORY);
  try {
    fsconfig(fs, FSCONFIG.SET_FD, key, null, fd);
  } finally {
    close(fd);
  }
}

export function mountRootfs(r: SandboxPlan['rootfs'], mountpoint: string): void {
  if (r.lowerdirs.length === 0) throw new SetupError('the rootfs needs at least one lower directory');
  const fs = fsopen('overlay');
  let fd: number;
  try {
    for (const [i, l] of r.lowerdirs.entries()) {
      try {
        setPath(fs, 'lowerdir+', l);
      } catch (err) {
        if (i === 0 && (err as { errno?: string }).errno === 'EINVAL') return legacyOverlay(r, mountpoint);
        throw new SetupError(`overlay lower dir ${l}`, withFsLog(fs, err));
      }
    }
    try {
      setPath(fs, 'upperdir', r.upperdir);
      setPath(fs, 'workdir', r.workdir);
      for (const o of ['index', 'redirect_dir', 'metacopy']) fsconfig(fs, FSCONFIG.SET_STRING, o, 'off');
      fsconfig(fs, FSCONFIG.CMD_CREATE);
      fd = fsmount(fs, MOUNT_ATTR.NODEV);
    } catch (err) {
      throw new SetupError('overlay rootfs', withFsLog(fs, err));
    }
  } finally {
    close(fs);
  }
  try {
    moveMount(fd, '', AT.FDCWD, mountpoint, MOVE_MOUNT.F_EMPTY_PATH);
  } finally {
    close(fd);
  }
}

/** Kernels before 6.8: one `lowerdir=` string, limited to a page. */
function legacyOverlay(r: SandboxPlan['rootfs'], mountpoint: string): void {
  const esc = (p: string) => p.replace(/([\\:,])/g, '\\$1');
  const data = `lowerdir=${r.lowerdirs.map(esc).join(':')},upperdir=${esc(r.upperdir)},workdir=${esc(r.workdir)},index=off,redirect_dir=off,metacopy=off`;
  if (data.length >= 4096) throw new UnsupportedError(`${r.lowerdirs.length} overlay layers need Linux 6.8 (lowerdir+)`);
  try {
    mount('overlay', mountpoint, 'overlay', MS.NODEV, data);
  } catch (err) {
    throw new SetupError('overlay rootfs', err);
  }
}
