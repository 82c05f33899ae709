/**
 * The sandbox's mounts, built with the new mount API: every filesystem is created as a
 * detached mount (fsopen/fsmount, or open_tree for bind sources) and attached with
 * move_mount. Sources are opened before pivot_root; every target is resolved after it,
 * inside the root (TargetMaker), so no path from the image can point a mount at the host.
 *
 * Device policy: there is no device cgroup on cgroup v2 and we do
 * not want a cgroup per run, so every mount a process of the sandbox can create files on
 * is `nodev` (the rootfs, /dev itself, /dev/shm, tmpfs and bind mounts). The default
 * device nodes are made in /dev and each is bind-mounted onto itself without `nodev`;
 * CAP_MKNOD stays (Docker's set), but a node made by the command cannot be opened.
 */
import { existsSync, lstatSync, readdirSync, readSync, symlinkSync, writeSync } from 'node:fs';
import {
  AT, close, FSCONFIG, fsconfig, fsmount, fsopen, mkdirat, mknod, mount, MOUNT_ATTR, moveMount, MOVE_MOUNT, mountSetattr, MS, O, openat,
  openTree, OPEN_TREE, umask,
} from '../libc.js';
import type { MountSpec } from '../types.js';
import { SetupError } from './setup-error.js';
import type { TargetMaker } from './targets.js';

const A = MOUNT_ATTR;

/**
 * The kernel's own explanation of a failed fsconfig (the filesystem context's message
 * log, read from its fd: "e overlay: upper fs does not support tmpfile"), appended to
 * the error so a setup failure says more than EINVAL.
 */
export function withFsLog(fs: number, err: unknown): unknown {
  const lines: string[] = [];
  const buf = Buffer.alloc(1024);
  for (let i = 0; i < 16; i++) {
    try {
      const n = readSync(fs, buf);
      if (n <= 0) break;
      lines.push(buf.toString('utf8', 0, n).trim());
    } catch {
      break; // ENODATA: no more messages
    }
  }
  if (lines.length === 0 || !(err instanceof Error)) return err;
  err.message += ` (${lines.join('; ')})`;
  return err;
}

/** A detached mount of a new filesystem. `options`: string values, or `true` for flags. */
export function newMount(fstype: string, options: Record<string, string | true>, attrs: number): number {
  const fs = fsopen(fstype);
  try {
    for (const [k, v] of Object.entries(options)) {
      if (v === true) fsconfig(fs, FSCONFIG.SET_FLAG, k);
      else fsconfig(fs, FSCONFIG.SET_STRING, k, v);
    }
    fsconfig(fs, FSCONFIG.CMD_CREATE);
    return fsmount(fs, attrs);
  } catch (err) {
    throw withFsLog(fs, err);
  } finally {
    close(fs);
  }
}

/** Attach a detached mount at an absolute path (already resolved in the root) and close its fd. */
export function attach(fd: number, target: string): void {
  try {
    moveMount(fd, '', AT.FDCWD, target, MOVE_MOUNT.F_EMPTY_PATH);
  } finally {
    close(fd);
  }
}

/**
 * A private read-only tmpfs holding the sandbox's /etc/hosts, /etc/resolv.conf and
 * /etc/hostname, plus `empty` and `emptydir`, the sources of the masked paths (an empty
 * read-only file reads empty and refuses writes). Never part of any layer.
 *
 * The files are written through the tmpfs's own mount; what the sandbox gets is a clone
 * made read-only. (Making the written mount itself read-only can fail with EBUSY: the fd
 * table is shared with the whole process, so a posix_spawn on another thread may hold a
 * copy of a just-closed writable fd until its exec.)
 */
export function filesMount(files: Record<string, string>): number {
  const fd = newMount('tmpfs', { mode: '0755', size: '1m' }, A.NOSUID | A.NODEV | A.NOEXEC);
  try {
    for (const [name, content] of Object.entries({ ...files, empty: '' })) {
      const f = openat(fd, name, O.WRONLY | O.CREAT | O.EXCL, 0o644);
      try {
        writeSync(f, content);
      } finally {
        close(f);
      }
    }
    mkdirat(fd, 'emptydir', 0o755);
    const ro = openTree(fd, '', OPEN_TREE.CLONE | AT.EMPTY_PATH);
    mountSetattr(ro, '', AT.EMPTY_PATH, { set: A.RDONLY });
    return ro;
  } finally {
    close(fd);
  }
}

/** A bind of one entry of the files mount (read-only like its source). */
export function fromFiles(filesFd: number, name: string): number {
  return openTree(filesFd, name, OPEN_TREE.CLONE);
}

/** moby's masked paths; missing ones are skipped. */
const PROC_MASKED = ['acpi', 'asound', 'interrupts', 'kcore', 'keys', 'latency_stats', 'sched_debug', 'scsi', 'timer_list', 'timer_stats'];
const PROC_READONLY = ['bus', 'fs', 'irq', 'sys', 'sysrq-trigger'];

function mask(filesFd: number, path: string): void {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return;
  attach(fromFiles(filesFd, st.isDirectory() ? 'emptydir' : 'empty'), path);
}

function bindReadonly(path: string): void {
  if (!existsSync(path)) return;
  mount(path, path, null, MS.BIND | MS.REC);
  mount(null, path, null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC);
}

export function setupProc(procFd: number, targets: TargetMaker, filesFd: number): void {
  const dir = targets.ensure('/proc', 'dir');
  if (dir !== '/proc') throw new SetupError(`/proc in the rootfs resolves to ${dir}; it must be a directory`);
  attach(procFd, '/proc');
  for (const p of PROC_MASKED) mask(filesFd, `/proc/${p}`);
  for (const p of PROC_READONLY) bindReadonly(`/proc/${p}`);
}

export function setupSys(sysFd: number, targets: TargetMaker, filesFd: number): void {
  const dir = targets.ensure('/sys', 'dir');
  if (dir !== '/sys') throw new SetupError(`/sys in the rootfs resolves to ${dir}; it must be a directory`);
  attach(sysFd, '/sys');
  mask(filesFd, '/sys/firmware');
  mask(filesFd, '/sys/devices/virtual/powercap');
  const cpus = readdirSync('/sys/devices/system/cpu').filter((n) => /^cpu\d+$/.test(n));
  for (const c of cpus) mask(filesFd, `/sys/devices/system/cpu/${c}/thermal_throttle`);
}

const DEVICES: Array<[string, number, number]> = [['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0]];
const S_IFCHR = 0o020000;

export function setupDev(targets: TargetMaker): void {
  const dir = targets.ensure('/dev', 'dir');
  if (dir !== '/dev') throw new SetupError(`/dev in the rootfs resolves to ${dir}; it must be a directory`);
  attach(newMount('tmpfs', { mode: '755', size: '65536k' }, A.NOSUID | A.NODEV | A.STRICTATIME), '/dev');
  const old = umask(0);
  try {
    for (const [name, major, minor] of DEVICES) {
      const p = `/dev/${name}`;
      mknod(p, S_IFCHR | 0o666, BigInt((major << 8) | minor));
      mount(p, p, null, MS.BIND);
      mount(null, p, null, MS.REMOUNT | MS.BIND | MS.NOSUID | MS.NOEXEC);
    }
  } finally {
    umask(old);
  }
  for (const d of ['pts', 'shm', 'mqueue']) mkdirat(AT.FDCWD, `/dev/${d}`, 0o755);
  attach(newMount('devpts', { newinstance: true, ptmxmode: '0666', mode: '0620', gid: '5' }, A.NOSUID | A.NOEXEC), '/dev/pts');
  attach(newMount('tmpfs', { mode: '1777', size: '65536k' }, A.NOSUID | A.NODEV | A.NOEXEC), '/dev/shm');
  attach(newMount('mqueue', {}, A.NOSUID | A.NODEV | A.NOEXEC), '/dev/mqueue');
  symlinkSync('pts/ptmx', '/dev/ptmx');
  symlinkSync('/proc/self/fd', '/dev/fd');
  symlinkSync('/proc/self/fd/0', '/dev/stdin');
  symlinkSync('/proc/self/fd/1', '/dev/stdout');
  symlinkSync('/proc/self/fd/2', '/dev/stderr');
}

export const ETC_FILES = ['hosts', 'resolv.conf', 'hostname'] as const;

export function setupEtcFiles(filesFd: number, targets: TargetMaker): void {
  for (const name of ETC_FILES) attach(fromFiles(filesFd, name), targets.ensure(`/etc/${name}`, 'file'));
}

/** A caller's mount, opened before pivot_root (host paths resolve on the host). */
export interface PreparedMount { fd: number; destination: string; dir: boolean }

const FLAG_ATTRS: Record<string, [set: number, clear: number]> = {
  ro: [A.RDONLY, 0], rw: [0, A.RDONLY], noexec: [A.NOEXEC, 0], exec: [0, A.NOEXEC], nosuid: [A.NOSUID, 0], suid: [0, A.NOSUID],
};

export function prepareMount(m: MountSpec): PreparedMount {
  if (!m.destination.startsWith('/') || m.destination.split('/').includes('..') || m.destination.replace(/\/+/g, '/') === '/') {
    throw new SetupError(`mount destination ${JSON.stringify(m.destination)} must be an absolute path below /`);
  }
  // nodev always: see the device policy above.
  let set = A.NODEV | (m.type === 'tmpfs' ? A.NOSUID : 0);
  let clear = 0;
  const fsOptions: Record<string, string | true> = {};
  for (const o of m.options ?? []) {
    const flag = FLAG_ATTRS[o];
    if (flag) {
      set = (set | flag[0]) & ~flag[1];
      clear = (clear | flag[1]) & ~flag[0];
      continue;
    }
    if (m.type === 'bind') throw new SetupError(`bind mount on ${m.destination}: unknown option ${o}`);
    const eq = o.indexOf('=');
    if (eq > 0) fsOptions[o.slice(0, eq)] = o.slice(eq + 1);
    else fsOptions[o] = true;
  }
  if (m.readonly) set |= A.RDONLY;
  if (m.type === 'tmpfs') {
    try {
      return { fd: newMount('tmpfs', fsOptions, set), destination: m.destination, dir: true };
    } catch (err) {
      throw new SetupError(`tmpfs on ${m.destination}`, err);
    }
  }
  if (!m.source) throw new SetupError(`bind mount on ${m.destination} has no source`);
  try {
    const dir = lstatSync(m.source).isDirectory();
    const fd = openTree(AT.FDCWD, m.source, OPEN_TREE.CLONE | AT.RECURSIVE);
    mountSetattr(fd, '', AT.EMPTY_PATH | AT.RECURSIVE, { set, clear });
    return { fd, destination: m.destination, dir };
  } catch (err) {
    throw new SetupError(`bind mount source ${m.source}`, err);
  }
}

export function attachMounts(mounts: PreparedMount[], targets: TargetMaker): void {
  for (const m of mounts) attach(m.fd, targets.ensure(m.destination, m.dir ? 'dir' : 'file'));
}
