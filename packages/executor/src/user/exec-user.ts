/**
 * runc's resolution of a `user[:group]` spec against the two files (libcontainer/user's
 * GetExecUser), which dockerd, BuildKit's RUN and runc's own init all call; run-user.ts
 * says how each of them calls it.
 */
import { fileMissing, idRange, MAX_FREE_ID, unknownGroup, unknownUser } from './errors.js';
import { goAtoi, parseGroup, parsePasswd, type UserFiles } from './files.js';

export interface ExecUser {
  uid: number;
  gid: number;
  /** Supplementary groups: the groups listing the user, only when the spec names no group. */
  sgids: number[];
  home: string;
}

/**
 * How a missing file reads: `no-entries` as an empty file (dockerd and runc's init open the
 * files themselves), `unreadable` as a read error (BuildKit's RUN hands runc a file that
 * failed to open, so every lookup in it fails: "unable to find user 0: invalid argument").
 */
export type MissingFile = 'no-entries' | 'unreadable';

function inRange(id: number): number {
  if (id < 0 || id > MAX_FREE_ID) throw idRange();
  return id;
}

export function execUser(spec: string, files: UserFiles, missing: MissingFile): ExecUser {
  // Only the first two fields count: `a:b:c` is user a, group b.
  const [userArg = '', groupArg = ''] = spec.split(':');
  const uidArg = goAtoi(userArg);
  const gidArg = goAtoi(groupArg);
  if (files.passwd === null && missing === 'unreadable') throw fileMissing(`user ${userArg || '0'}`, '/etc/passwd');
  // No user is uid 0; a number is always a uid, never a name; the first entry wins.
  const entry = parsePasswd(files.passwd).find((p) => (userArg === '' ? p.uid === 0 : uidArg !== undefined ? p.uid === uidArg : p.name === userArg));
  const out: ExecUser = { uid: 0, gid: 0, sgids: [], home: '/' };
  if (entry) {
    Object.assign(out, { uid: entry.uid, gid: entry.gid, home: entry.home });
  } else if (userArg !== '') {
    if (uidArg === undefined) throw unknownUser(userArg);
    out.uid = inRange(uidArg);
  }
  const name = entry?.name ?? '';
  if (groupArg === '' && name === '') return out;
  if (files.group === null && missing === 'unreadable') throw fileMissing(`groups for spec ${name}`, '/etc/group');
  const groups = parseGroup(files.group);
  if (groupArg === '') {
    out.sgids = groups.filter((g) => g.members.includes(name)).map((g) => g.gid);
    return out;
  }
  const group = groups.find((g) => (gidArg !== undefined ? g.gid === gidArg : g.name === groupArg));
  if (group) out.gid = group.gid;
  else if (gidArg === undefined) throw unknownGroup(groupArg);
  else out.gid = inRange(gidArg);
  return out;
}
