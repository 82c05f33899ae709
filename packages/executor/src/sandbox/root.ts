/**
 * The sandbox's file system tree, built in two halves around the start of its init:
 *
 *   openRoot()   on the host side, in the new mount namespace: the overlay rootfs on the
 *                mount point, and as detached mounts the files tmpfs, the caller's bind
 *                sources and sysfs; the fd listing for close-on-exec when needed;
 *   (the init starts, /proc for its PID namespace is made: proc.ts)
 *   enterRoot()  pivot_root into the rootfs, detach the old root, then attach
 *                everything at targets resolved inside the root.
 *
 * Until it is attached, a detached mount is an fd in tsbuild's fd table (shared by every
 * thread) and would outlive a failed sandbox: closeRoot() closes those still open.
 */
import type { SandboxPlan } from '../protocol.js';
import * as libc from '../libc.js';
import { fdSealer, type FdSealer } from './fds.js';
import { filesMount, StagedFiles } from './files.js';
import { attachMounts, DEVICE_NAMES, newMount, prepareMount, setupDev, setupEtcFiles, setupProc, setupSys, type PreparedMount } from './mounts.js';
import { mapped } from '../rootless/namespace.js';
import { hostDevices, hostSys } from './rootless.js';
import { bindCopiedRoot } from './copied-root.js';
import { mountRootfs } from './rootfs.js';
import { SetupError, UnsupportedError } from './setup-error.js';
import { TargetMaker } from './targets.js';

const A = libc.MOUNT_ATTR;

export function step<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SetupError || err instanceof UnsupportedError) throw err;
    throw new SetupError(what, err);
  }
}

/** What openRoot() opened; each fd is set to undefined when its owner takes it. */
export interface OpenRoot {
  upperFd?: number;
  filesFd?: number;
  sysFd?: number;
  procFd?: number;
  /** Rootless: the host's device nodes to bind in /dev (sandbox/rootless.ts). */
  devFds?: Map<string, number>;
  /** Rootless without subordinate ids: gid 5 (tty) is not mapped, devpts gets no gid=. */
  ttyGid?: boolean;
  prepared: PreparedMount[];
  fds?: FdSealer;
}

export function openRoot(plan: SandboxPlan, open: OpenRoot): void {
  const { kernel } = plan;
  const copied = plan.rootfs.copied;
  if (copied !== undefined) step('root', () => bindCopiedRoot(copied, plan.mountpoint, kernel.mountSetattr));
  else mountRootfs(plan.rootfs, plan.mountpoint, kernel, plan.userns !== undefined);
  // The stubs are recorded against the directory that receives the writes.
  if (!plan.rootfs.throwaway) open.upperFd = step('upper dir', () => libc.open(copied ?? plan.rootfs.upperdir, libc.O.PATH | libc.O.DIRECTORY));
  open.filesFd = step('/etc files', () => filesMount({ hosts: plan.files.hosts, 'resolv.conf': plan.files.resolvConf, hostname: plan.files.hostname }));
  for (const m of plan.mounts) open.prepared.push(prepareMount(m, kernel));
  const ns = plan.userns;
  if (ns) {
    open.devFds = step('/dev', () => hostDevices(DEVICE_NAMES, kernel.mountSetattr));
    open.ttyGid = mapped(ns.gids, 5);
  }
  // sysfs is mounted for the sandbox's network namespace; a user namespace may do that
  // only for a network namespace it owns.
  open.sysFd = ns && plan.network === 'host' ? step('/sys', () => hostSys(kernel.mountSetattr)) : step('sysfs', () => newMount('sysfs', {}, A.RDONLY | A.NOSUID | A.NODEV | A.NOEXEC));
  open.fds = step('fd list', () => fdSealer(kernel));
}

function take(open: OpenRoot, key: 'filesFd' | 'sysFd' | 'procFd'): number {
  const fd = open[key];
  if (fd === undefined) throw new SetupError(`sandbox setup: ${key} is missing`);
  open[key] = undefined;
  return fd;
}

/** The mount points' maker, recording stubs in the upper dir openRoot() opened. */
export function targetMaker(open: OpenRoot): TargetMaker {
  return new TargetMaker(open.upperFd ?? -1);
}

/**
 * pivot_root into the rootfs (the thread's cwd, where the init was started) and attach
 * every mount, at mount points `targets` makes (it records what it creates even when this fails).
 */
export function enterRoot(open: OpenRoot, targets: TargetMaker): void {
  step('pivot_root', () => {
    libc.pivotRoot('.', '.');
    libc.mount(null, '.', null, libc.MS.SLAVE | libc.MS.REC);
    libc.umount2('.', libc.MNT_DETACH);
    libc.chdir('/');
  });
  const files = step('/etc files', () => new StagedFiles(take(open, 'filesFd'), targets));
  step('/proc', () => setupProc(take(open, 'procFd'), targets, files));
  step('/sys', () => setupSys(take(open, 'sysFd'), targets, files));
  step('/etc files', () => {
    setupEtcFiles(files, targets);
    files.unstage();
  });
  const devFds = open.devFds;
  open.devFds = undefined;
  step('/dev', () => setupDev(targets, devFds, open.ttyGid ?? true));
  const prepared = open.prepared.splice(0);
  step('mounts', () => attachMounts(prepared, targets));
  if (open.upperFd !== undefined) libc.close(open.upperFd);
  open.upperFd = undefined;
}

/** After a failure: close what is still open. */
export function closeRoot(open: OpenRoot): void {
  for (const fd of [open.upperFd, open.filesFd, open.sysFd, open.procFd, ...open.prepared.map((m) => m.fd), ...(open.devFds?.values() ?? [])]) {
    if (fd !== undefined) libc.close(fd);
  }
  open.upperFd = open.filesFd = open.sysFd = open.procFd = undefined;
  open.prepared = [];
  open.devFds = undefined;
  open.fds?.close();
}
