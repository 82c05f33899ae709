/**
 * Before tsbuild re-executes itself in a user namespace (reexec.ts): can it, and with
 * which ids? Everything here reads files and the PATH; nothing is started. Each refusal
 * is a RootlessError naming what is missing and how to get it.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { RootlessError } from './errors.js';
import { idMap, readSubidFile, subordinateRanges, total, type SubRange } from './subids.js';
import type { IdRange } from './namespace.js';

/** What a user namespace of the podman kind needs at least: ids 0-65535 inside. */
export const MIN_SUBIDS = 65536;

export interface Host {
  uid: number;
  gid: number;
  /** The user's name, when /etc/passwd has it (subuid lines may name the user either way). */
  user?: string;
  /** Text of a file under /proc/sys, or undefined when it does not exist. */
  sysctl(path: string): string | undefined;
  subuid: string;
  subgid: string;
  /** The full path of an executable found in the PATH, or undefined. */
  which(name: string): string | undefined;
}

export interface Mapping {
  /** `subids`: newuidmap/newgidmap write both maps; `own-id`: only the user's own id, written directly. */
  kind: 'subids' | 'own-id';
  uids: IdRange[];
  gids: IdRange[];
  newuidmap?: string;
  newgidmap?: string;
}

/** The sysctls that turn unprivileged user namespaces off, with the value that does it. */
const USERNS_SWITCHES: Array<[path: string, name: string, off: (v: string) => boolean, fix: string]> = [
  ['kernel/unprivileged_userns_clone', 'kernel.unprivileged_userns_clone', (v) => v === '0', 'sysctl -w kernel.unprivileged_userns_clone=1'],
  ['user/max_user_namespaces', 'user.max_user_namespaces', (v) => v === '0', 'sysctl -w user.max_user_namespaces=15000'],
  ['kernel/apparmor_restrict_unprivileged_userns', 'kernel.apparmor_restrict_unprivileged_userns', (v) => v === '1', 'sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile for node granting "userns,"'],
];

export function checkUserNamespaces(host: Pick<Host, 'sysctl'>): void {
  for (const [path, name, off, fix] of USERNS_SWITCHES) {
    const v = host.sysctl(path)?.trim();
    if (v !== undefined && off(v)) {
      throw new RootlessError('user-namespaces', `rootless tsbuild needs unprivileged user namespaces, which this host turns off (${name}=${v}); as root: ${fix}`);
    }
  }
}

/** The id maps for this user, or a RootlessError saying what is missing. */
export function planMapping(host: Host): Mapping {
  checkUserNamespaces(host);
  const who = { name: host.user ?? String(host.uid), id: host.uid };
  const sub = { uid: subordinateRanges(host.subuid, who), gid: subordinateRanges(host.subgid, { name: who.name, id: host.uid }) };
  if (sub.uid.length === 0 && sub.gid.length === 0) {
    return { kind: 'own-id', uids: [{ inside: 0, outside: host.uid, count: 1 }], gids: [{ inside: 0, outside: host.gid, count: 1 }] };
  }
  for (const [kind, file, ranges] of [['uids', '/etc/subuid', sub.uid], ['gids', '/etc/subgid', sub.gid]] as Array<[string, string, SubRange[]]>) {
    const n = total(ranges);
    if (n < MIN_SUBIDS) {
      const flag = kind === 'uids' ? '--add-subuids' : '--add-subgids';
      throw new RootlessError('subordinate-ids', `${who.name} has ${n} subordinate ${kind} in ${file}; rootless tsbuild needs at least ${MIN_SUBIDS} (as root: usermod ${flag} 100000-165535 ${who.name}, with a range no other user has), or none at all to map only your own id`);
    }
  }
  const tools = { newuidmap: host.which('newuidmap'), newgidmap: host.which('newgidmap') };
  for (const [name, path] of Object.entries(tools)) {
    if (!path) throw new RootlessError('newuidmap', `${name} is not installed, and /etc/subuid gives ${who.name} subordinate ids that only it can map: install Debian's uidmap (apt-get install uidmap)`);
  }
  return { kind: 'subids', uids: idMap(host.uid, sub.uid), gids: idMap(host.gid, sub.gid), newuidmap: tools.newuidmap!, newgidmap: tools.newgidmap! };
}

/** The real host: this process's ids and user name, /proc/sys, /etc/subuid, /etc/subgid, the PATH. */
export function thisHost(env: NodeJS.ProcessEnv = process.env, user = userName()): Host {
  return {
    uid: process.getuid!(),
    gid: process.getgid!(),
    ...(user ? { user } : {}),
    sysctl: (p) => {
      try {
        return readFileSync(join('/proc/sys', p), 'utf8');
      } catch {
        return undefined;
      }
    },
    subuid: readSubidFile('/etc/subuid'),
    subgid: readSubidFile('/etc/subgid'),
    which: (name) => which(name, env.PATH ?? ''),
  };
}

function userName(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined; // no /etc/passwd entry: /etc/subuid can still name the uid
  }
}

export function which(name: string, path: string): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}
