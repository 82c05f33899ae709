/**
 * What the sandbox does differently when tsbuild runs in a user namespace (rootless,
 * rootless/): its mount, PID, UTS, IPC and network namespaces belong to that user
 * namespace, so it may mount what the kernel allows there (tmpfs, proc, devpts, mqueue,
 * overlayfs with `userxattr`, sysfs for a network namespace of its own) but not:
 *
 * - make device nodes: the default nodes are the host's, cloned (open_tree) before
 *   pivot_root and bound onto empty files in /dev, as rootless runc does;
 * - mount sysfs for the host's network namespace (`network: 'host'`): the host's /sys is
 *   bound instead, read-only;
 * - change the flags the host locked on a cloned mount (atime, nosuid...): flags are only
 *   ever added, with mount_setattr, never by MS_REMOUNT (which restates all of them);
 * - switch to ids the namespace does not map, or set groups when setgroups is denied:
 *   refused here with an error saying which id and why (credentials.ts calls check).
 */
import { AT, close, MOUNT_ATTR, mountSetattr, openTree, OPEN_TREE } from '../libc.js';
import { mapped, type UserNamespace } from '../rootless/namespace.js';
import { SetupError } from './setup-error.js';
import type { ResolvedUser } from './user.js';

const A = MOUNT_ATTR;

/** The host's nodes of the default devices, as detached clones (name -> fd); all closed on failure. */
export function hostDevices(names: readonly string[], canSetattr: boolean): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const name of names) {
      let fd: number;
      try {
        fd = openTree(AT.FDCWD, `/dev/${name}`, OPEN_TREE.CLONE);
      } catch (err) {
        throw new SetupError(`binding the host's /dev/${name} (a user namespace cannot make device nodes)`, err);
      }
      out.set(name, fd);
      if (canSetattr) mountSetattr(fd, '', AT.EMPTY_PATH, { set: A.NOSUID | A.NOEXEC });
    }
    return out;
  } catch (err) {
    for (const fd of out.values()) close(fd);
    throw err;
  }
}

/**
 * The host's /sys, read-only, for a sandbox on the host's network (sysfs cannot be mounted
 * for it). Without mount_setattr (before 5.12) it stays as the host has it: its files
 * check privileges of the initial user namespace, which the sandbox has not.
 */
export function hostSys(canSetattr: boolean): number {
  const fd = openTree(AT.FDCWD, '/sys', OPEN_TREE.CLONE | AT.RECURSIVE);
  if (!canSetattr) return fd;
  try {
    mountSetattr(fd, '', AT.EMPTY_PATH | AT.RECURSIVE, { set: A.RDONLY | A.NOSUID | A.NODEV | A.NOEXEC });
  } catch (err) {
    close(fd);
    throw new SetupError("binding the host's /sys read-only", err);
  }
  return fd;
}

/** Refuse, with the reason, credentials the user namespace cannot give. */
export function checkCredentials(ns: UserNamespace, user: ResolvedUser): void {
  const how = ns.ownIdOnly
    ? 'tsbuild runs rootless without subordinate ids, so only id 0 (your own id outside) exists; add a range to /etc/subuid and /etc/subgid (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER) and install Debian\'s uidmap'
    : 'the subordinate ids of /etc/subuid and /etc/subgid do not reach it; give the user a larger range (usermod --add-subuids/--add-subgids)';
  if (!mapped(ns.uids, user.uid)) throw new SetupError(`user id ${user.uid} is not mapped in tsbuild's user namespace: ${how}`);
  if (!mapped(ns.gids, user.gid)) throw new SetupError(`group id ${user.gid} is not mapped in tsbuild's user namespace: ${how}`);
  const other = user.groups.find((g) => !mapped(ns.gids, g));
  if (other !== undefined) throw new SetupError(`supplementary group ${other} is not mapped in tsbuild's user namespace: ${how}`);
}

/** With setgroups denied, the groups can only stay as they are: the command keeps them when they are just the user's gid. */
export function mustSetGroups(ns: UserNamespace | undefined, user: ResolvedUser): boolean {
  if (!ns?.setgroupsDenied) return true;
  return !(user.groups.length === 0 || (user.groups.length === 1 && user.groups[0] === user.gid));
}
