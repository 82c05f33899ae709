/**
 * The sandbox's mounts, built with the new mount API: every filesystem is created as a
 * detached mount (fsopen/fsmount, or open_tree for bind sources) and attached with
 * move_mount. Sources are opened before pivot_root; every target is resolved after it,
 * inside the root (TargetMaker), so no path from the image can point a mount at the host.
 * Mount flags of bind mounts are set with mount_setattr (Linux 5.12) where the kernel
 * has it, else after attaching (remount.ts).
 *
 * Device policy: there is no device cgroup on cgroup v2 and we do
 * not want a cgroup per run, so every mount a process of the sandbox can create files on
 * is `nodev` (the rootfs, /dev itself, /dev/shm, tmpfs and bind mounts). The default
 * device nodes are made in /dev and each is bind-mounted onto itself without `nodev`;
 * CAP_MKNOD stays (Docker's set), but a node made by the command cannot be opened.
 */
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readSync, symlinkSync } from 'node:fs';
import type { KernelFeatures } from '../features.js';
import { AT, close, FSCONFIG, fsconfig, fsmount, fsopen, mkdirat, mknod, mount, MOUNT_ATTR, moveMount, MOVE_MOUNT, mountSetattr, MS, openTree, OPEN_TREE, umask } from '../libc.js';
import type { MountSpec } from '../types.js';
import type { StagedFiles } from './files.js';
import { remountTree } from './remount.js';
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
  return createMount(fsopen(fstype), options, attrs);
}

/** Configure and create the filesystem context `fs` (closed in any case) and return its detached mount. */
export function createMount(fs: number, options: Record<string, string | true>, attrs: number): number {
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

/** moby's masked paths; missing ones are skipped. */
const PROC_MASKED = ['acpi', 'asound', 'interrupts', 'kcore', 'keys', 'latency_stats', 'sched_debug', 'scsi', 'timer_list', 'timer_stats'];
const PROC_READONLY = ['bus', 'fs', 'irq', 'sys', 'sysrq-trigger'];

function mask(files: StagedFiles, path: string): void {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return;
  attach(files.take(st.isDirectory() ? 'emptydir' : 'empty'), path);
}

function bindReadonly(path: string): void {
  if (!existsSync(path)) return;
  mount(path, path, null, MS.BIND | MS.REC);
  mount(null, path, null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC);
}

/** Make `dir` the mount point of the detached mount `fd` (closed in any case), which must resolve to itself. */
export function attachAtDir(fd: number, dir: string, targets: TargetMaker): void {
  let at: string;
  try {
    at = targets.ensure(dir, 'dir');
    if (at !== dir) throw new SetupError(`${dir} in the rootfs resolves to ${at}; it must be a directory`);
  } catch (err) {
    close(fd);
    throw err;
  }
  attach(fd, dir);
}

export function setupProc(procFd: number, targets: TargetMaker, files: StagedFiles): void {
  attachAtDir(procFd, '/proc', targets);
  for (const p of PROC_MASKED) mask(files, `/proc/${p}`);
  for (const p of PROC_READONLY) bindReadonly(`/proc/${p}`);
}

export function setupSys(sysFd: number, targets: TargetMaker, files: StagedFiles): void {
  attachAtDir(sysFd, '/sys', targets);
  mask(files, '/sys/firmware');
  mask(files, '/sys/devices/virtual/powercap');
  const cpus = readdirSync('/sys/devices/system/cpu').filter((n) => /^cpu\d+$/.test(n));
  for (const c of cpus) mask(files, `/sys/devices/system/cpu/${c}/thermal_throttle`);
}

const DEVICES: Array<[string, number, number]> = [['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9], ['tty', 5, 0]];
export const DEVICE_NAMES = DEVICES.map(([name]) => name);
const S_IFCHR = 0o020000;

/**
 * `hostNodes` (rootless, sandbox/rootless.ts): the host's nodes cloned before pivot_root,
 * bound onto empty files instead of nodes made here (a user namespace cannot mknod), all
 * taken (closed) here. `ttyGid`: devpts's gid for new terminals, when the namespace maps 5.
 */
export function setupDev(targets: TargetMaker, hostNodes?: Map<string, number>, ttyGid = true): void {
  attachAtDir(newMount('tmpfs', { mode: '755', size: '65536k' }, A.NOSUID | A.NODEV | A.STRICTATIME), '/dev', targets);
  const old = umask(0);
  try {
    for (const [name, major, minor] of DEVICES) {
      const p = `/dev/${name}`;
      const host = hostNodes?.get(name);
      if (host !== undefined) {
        hostNodes!.delete(name);
        try {
          closeSync(openSync(p, 'wx', 0o666));
        } catch (err) {
          close(host);
          throw err;
        }
        attach(host, p);
        continue;
      }
      mknod(p, S_IFCHR | 0o666, BigInt((major << 8) | minor));
      mount(p, p, null, MS.BIND);
      mount(null, p, null, MS.REMOUNT | MS.BIND | MS.NOSUID | MS.NOEXEC);
    }
  } finally {
    umask(old);
    for (const fd of hostNodes?.values() ?? []) close(fd);
    hostNodes?.clear();
  }
  for (const d of ['pts', 'shm', 'mqueue']) mkdirat(AT.FDCWD, `/dev/${d}`, 0o755);
  attach(newMount('devpts', { newinstance: true, ptmxmode: '0666', mode: '0620', ...(ttyGid ? { gid: '5' } : {}) }, A.NOSUID | A.NOEXEC), '/dev/pts');
  attach(newMount('tmpfs', { mode: '1777', size: '65536k' }, A.NOSUID | A.NODEV | A.NOEXEC), '/dev/shm');
  attach(newMount('mqueue', {}, A.NOSUID | A.NODEV | A.NOEXEC), '/dev/mqueue');
  symlinkSync('pts/ptmx', '/dev/ptmx');
  symlinkSync('/proc/self/fd', '/dev/fd');
  symlinkSync('/proc/self/fd/0', '/dev/stdin');
  symlinkSync('/proc/self/fd/1', '/dev/stdout');
  symlinkSync('/proc/self/fd/2', '/dev/stderr');
}

export const ETC_FILES = ['hosts', 'resolv.conf', 'hostname'] as const;

export function setupEtcFiles(files: StagedFiles, targets: TargetMaker): void {
  for (const name of ETC_FILES) {
    const target = targets.ensure(`/etc/${name}`, 'file');
    attach(files.take(name), target);
  }
}

/**
 * A caller's mount, opened before pivot_root (host paths resolve on the host). `attrs`:
 * the mount flags still to be set once it is attached (kernels without mount_setattr).
 */
export interface PreparedMount { fd: number; destination: string; dir: boolean; attrs?: { set: number; clear: number } }

const FLAG_ATTRS: Record<string, [set: number, clear: number]> = {
  ro: [A.RDONLY, 0], rw: [0, A.RDONLY], noexec: [A.NOEXEC, 0], exec: [0, A.NOEXEC], nosuid: [A.NOSUID, 0], suid: [0, A.NOSUID],
};

export function prepareMount(m: MountSpec, kernel: Pick<KernelFeatures, 'mountSetattr'>): PreparedMount {
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
    if (!kernel.mountSetattr) return { fd, destination: m.destination, dir, attrs: { set, clear } };
    try {
      mountSetattr(fd, '', AT.EMPTY_PATH | AT.RECURSIVE, { set, clear });
    } catch (err) {
      close(fd);
      throw err;
    }
    return { fd, destination: m.destination, dir };
  } catch (err) {
    throw new SetupError(`bind mount source ${m.source}`, err);
  }
}

/** Attach the caller's mounts; each fd is closed, also those not reached after a failure. */
export function attachMounts(mounts: PreparedMount[], targets: TargetMaker): void {
  for (const [i, m] of mounts.entries()) {
    let target: string;
    try {
      target = targets.ensure(m.destination, m.dir ? 'dir' : 'file');
    } catch (err) {
      for (const rest of mounts.slice(i)) close(rest.fd);
      throw err;
    }
    try {
      attach(m.fd, target);
      if (m.attrs) remountTree(target, m.attrs, { recursive: true });
    } catch (err) {
      for (const rest of mounts.slice(i + 1)) close(rest.fd);
      throw err;
    }
  }
}
