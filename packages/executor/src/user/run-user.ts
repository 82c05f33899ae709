/**
 * The user a process runs as, resolved from a USER spec the way docker does. Docker has
 * two answers, and both were recorded (fixtures/users/docker-recorded.json):
 *
 * - `docker run` (dockerd, then runc): the spec goes through runc's rules with a missing
 *   file read as empty, and dockerd adds the primary group to the supplementary groups;
 * - a build's RUN (BuildKit's executor, then runc): `uid:gid` in numbers (or `root`) is
 *   taken as it is, anything else goes through runc's rules with a missing file an error,
 *   and the supplementary groups are only those /etc/group lists the user in.
 *
 * HOME is runc's init's: it looks the numeric uid up again, so it is the home of the first
 * entry with that uid ("" when that field is empty), or "/" when there is none.
 */
import { UserResolutionError } from './errors.js';
import { execUser, type ExecUser } from './exec-user.js';
import { parseGroup, type UserFiles } from './files.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  groups: number[];
  home: string;
}

/** runc's init, given the numeric ids: refuses ids out of range that the files do not know; finds HOME. */
function runcInit(user: ExecUser, files: UserFiles, groups: number[]): ResolvedUser {
  let home: string;
  try {
    home = execUser(`${user.uid}:${user.gid}`, files, 'no-entries').home;
  } catch (err) {
    if (err instanceof UserResolutionError) throw new UserResolutionError(err.code, `unable to setup user: ${err.message}`);
    throw err;
  }
  return { uid: user.uid, gid: user.gid, groups: [...new Set(groups)], home };
}

/**
 * dockerd's extra supplementary group: the spec's group looked up again by name or number,
 * the first /etc/group line matching either (so `tester:2000` runs with gid 2000 but, with
 * a group named "2000" of gid 90, has 90 in its groups); the user's gid when there is none.
 */
function dockerAddedGroup(spec: string, user: ExecUser, files: UserFiles): number {
  const groupArg = spec.split(':')[1] ?? '';
  if (groupArg === '') return user.gid;
  return parseGroup(files.group).find((g) => g.name === groupArg || String(g.gid) === groupArg)?.gid ?? user.gid;
}

/** `docker run --user SPEC` (or the image's USER at run time); "" is no user, uid 0. */
export function resolveRunUser(spec: string, files: UserFiles): ResolvedUser {
  const user = execUser(spec, files, 'no-entries');
  return runcInit(user, files, [dockerAddedGroup(spec, user, files), ...user.sgids]);
}

/** BuildKit's own parse of an id: `root`, or decimal digits within 32 bits. */
function buildkitId(s: string): number | undefined {
  if (s === 'root') return 0;
  return /^\d+$/.test(s) && Number(s) <= 0xffffffff ? Number(s) : undefined;
}

/** A build's `USER SPEC` then `RUN`, as BuildKit runs it; "" is no USER, uid 0. */
export function resolveBuildRunUser(spec: string, files: UserFiles): ResolvedUser {
  const colon = spec.indexOf(':');
  const fast = spec === '' ? { uid: 0, gid: 0 } : colon === -1 ? undefined : { uid: buildkitId(spec.slice(0, colon)), gid: buildkitId(spec.slice(colon + 1)) };
  const user = fast?.uid !== undefined && fast.gid !== undefined ? { uid: fast.uid, gid: fast.gid, sgids: [], home: '/' } : execUser(spec, files, 'unreadable');
  return runcInit(user, files, user.sgids);
}

/** The HOME a process given numeric ids gets (runc's init), never failing: "/" when unknown. */
export function homeOf(uid: number, passwd: string | null): string {
  try {
    return execUser(String(uid), { passwd, group: null }, 'no-entries').home;
  } catch {
    return '/';
  }
}
