/**
 * Drop the worker thread to the command's credentials just before it spawns the
 * command, which inherits them: the thread's credentials are per-thread when changed
 * with raw syscalls (libc.ts). For a root process execve() gives permitted = bounding
 * set, so the bounding set is what limits a root command to Docker's capabilities.
 */
import { capget, capset, dropBoundingCap, prctl, PR, PR_CAP_AMBIENT_CLEAR_ALL, setThreadGroups, setThreadResgid, setThreadResuid } from '../libc.js';
import { installSeccomp } from './seccomp.js';
import type { ResolvedUser } from './user.js';

/**
 * Docker's default capability set (moby's and containerd's defaults): CHOWN, DAC_OVERRIDE, FSETID,
 * FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE,
 * SYS_CHROOT, KILL, AUDIT_WRITE.
 */
export const DEFAULT_CAPS = 0x00000000a80425fbn;

/**
 * The caller has made every fd from 3 up close-on-exec (fds.ts). `seccomp: false` (the
 * chroot mode, which has no CAP_SYS_ADMIN to install a filter without no_new_privs, and
 * whose command must keep setuid programs working) leaves the filter out and keeps of
 * Docker's set only what this thread holds.
 */
export function dropPrivileges(user: ResolvedUser, opts: { seccomp?: boolean } = {}): void {
  prctl(PR.CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL);
  for (let cap = 0; cap < 64; cap++) if ((DEFAULT_CAPS & (1n << BigInt(cap))) === 0n) dropBoundingCap(cap);
  // Still holding CAP_SYS_ADMIN, so no_new_privs is not needed for the filter.
  if (opts.seccomp ?? true) installSeccomp();
  const caps = opts.seccomp ?? true ? DEFAULT_CAPS : DEFAULT_CAPS & capget().permitted;
  capset({ effective: caps, permitted: caps, inheritable: 0n });
  setThreadGroups(user.groups);
  setThreadResgid(user.gid);
  // From uid 0 to any other uid the kernel clears the permitted and effective sets.
  setThreadResuid(user.uid);
}
