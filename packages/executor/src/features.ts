/**
 * The kernel features the sandbox uses beyond its floor, Linux 5.10, found by trying
 * them once per process (never from the version number) and handed to every sandbox in
 * its plan. Each has a fallback that works on the floor; the README's kernel table lists
 * them with what they are used for.
 *
 * The probes have no effect: a filesystem context that is configured and closed without
 * being created, system calls with arguments that cannot succeed. They run on the main
 * thread, which needs root like the sandbox itself.
 *
 * Test switch: TSBUILD_SANDBOX_FALLBACKS=all (or a comma-separated list of the keys of
 * FEATURES) makes the sandbox take the fallback even where the kernel has the feature,
 * so every path is tested at full speed on a new kernel too.
 */
import { ExecutorError } from './errors.js';
import * as libc from './libc.js';
import { UnsupportedError } from './sandbox/setup-error.js';

export interface KernelFeatures {
  /** overlayfs `lowerdir+` (6.8): layers added one by one, any number. Else one `lowerdir=` string in mount(2)'s page of options. */
  overlayAppend: boolean;
  /** procfs `pidns=` (6.15): /proc for the sandbox's PID namespace made from outside it. Else the sandbox's init opens it. */
  procPidns: boolean;
  /** mount_setattr(2) (5.12): mount flags set on a detached mount, recursively. Else MS_REMOUNT|MS_BIND after attaching. */
  mountSetattr: boolean;
  /** close_range(2) with CLOSE_RANGE_CLOEXEC (5.11): every fd of tsbuild close-on-exec at once. Else one fcntl per fd. */
  closeRangeCloexec: boolean;
}

/** The switch's key for each feature (`TSBUILD_SANDBOX_FALLBACKS=lowerdir+,pidns`). */
export const FALLBACK_KEYS: Record<string, keyof KernelFeatures> = {
  'lowerdir+': 'overlayAppend',
  pidns: 'procPidns',
  mount_setattr: 'mountSetattr',
  close_range_cloexec: 'closeRangeCloexec',
};

export const FALLBACKS_ENV = 'TSBUILD_SANDBOX_FALLBACKS';

/** System calls the sandbox cannot do without, with the first kernel that has them. */
const FLOOR: Array<[what: string, kernel: string, missing: () => boolean]> = [
  ['the new mount API (fsopen, fsconfig, fsmount, open_tree, move_mount)', '5.2', () => libc.syscallProbe(libc.SYS.fsopen, 0) === 'ENOSYS'],
  ['pidfd_open', '5.3', () => libc.syscallProbe(libc.SYS.pidfd_open, -1) === 'ENOSYS'],
  ['waitid(P_PIDFD)', '5.4', () => libc.waitidPidfdProbe() === 'EINVAL'],
  ['openat2', '5.6', () => libc.syscallProbe(libc.SYS.openat2, -1, 0, 0) === 'ENOSYS'],
  ['pidfd_getfd', '5.6', () => libc.syscallProbe(libc.SYS.pidfd_getfd, -1) === 'ENOSYS'],
];

let detected: KernelFeatures | undefined;

/**
 * What this kernel has, less what TSBUILD_SANDBOX_FALLBACKS turns off. Throws an
 * UnsupportedError naming the first missing system call the sandbox cannot do without.
 */
export function kernelFeatures(env: NodeJS.ProcessEnv = process.env): KernelFeatures {
  detected ??= detect();
  const forced = fallbacksFrom(env[FALLBACKS_ENV]);
  const out = { ...detected };
  for (const k of forced) out[k] = false;
  return out;
}

/** The features TSBUILD_SANDBOX_FALLBACKS (its value here) turns off; an unknown name is an error. */
export function fallbacksFrom(value: string | undefined): Array<keyof KernelFeatures> {
  if (!value) return [];
  const keys = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (keys.includes('all')) return Object.values(FALLBACK_KEYS);
  return keys.map((k) => {
    const f = FALLBACK_KEYS[k];
    if (!f) throw new ExecutorError('TSBUILD_SANDBOX_SETUP', `${FALLBACKS_ENV}: unknown feature ${JSON.stringify(k)} (known: all, ${Object.keys(FALLBACK_KEYS).join(', ')})`);
    return f;
  });
}

function detect(): KernelFeatures {
  for (const [what, kernel, missing] of FLOOR) {
    if (missing()) throw new UnsupportedError(`this kernel lacks ${what}, which the sandbox needs (Linux ${kernel}+; tsbuild supports Linux 5.10 and later)`);
  }
  return {
    overlayAppend: overlayAppend(),
    procPidns: configures('proc', (fs) => libc.fsconfig(fs, libc.FSCONFIG.SET_STRING, 'pidns', '/proc/self/ns/pid')),
    mountSetattr: libc.mountSetattrProbe() !== 'ENOSYS',
    closeRangeCloexec: libc.closeRangeProbe(0xfffffffe, 0xffffffff, libc.CLOSE_RANGE_CLOEXEC) === 0,
  };
}

/**
 * `lowerdir+` is accepted by overlayfs 6.8+, refused (EINVAL) by 6.5-6.7, whose own
 * parser does not know it, and accepted by everything older too: before 6.5 overlayfs
 * has no parser, the VFS collects any key into mount(2)'s option string and the mount
 * fails only at FSCONFIG_CMD_CREATE. A key no kernel knows tells the two apart.
 */
function overlayAppend(): boolean {
  const appends = configures('overlay', (fs) => libc.fsconfig(fs, libc.FSCONFIG.SET_STRING, 'lowerdir+', '/'));
  const takesAnything = configures('overlay', (fs) => libc.fsconfig(fs, libc.FSCONFIG.SET_FLAG, 'x-tsbuild-no-such-option'));
  return appends && !takesAnything;
}

/** Whether `set` succeeds on a fresh context of `fstype` (false on EINVAL; other errors are thrown). */
function configures(fstype: string, set: (fs: number) => void): boolean {
  let fs: number;
  try {
    fs = libc.fsopen(fstype);
  } catch (err) {
    if ((err as { errno?: string }).errno !== 'ENODEV') throw new UnsupportedError(`cannot open a ${fstype} filesystem context`, err);
    throw new UnsupportedError(`the kernel has no ${fstype} filesystem${fstype === 'overlay' ? ' (load the overlay module: modprobe overlay)' : ''}`, err);
  }
  try {
    set(fs);
    return true;
  } catch (err) {
    if ((err as { errno?: string }).errno === 'EINVAL') return false;
    throw new UnsupportedError(`probing ${fstype}`, err);
  } finally {
    libc.close(fs);
  }
}
