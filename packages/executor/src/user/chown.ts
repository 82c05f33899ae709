/**
 * The owner BuildKit gives what a build step creates for a user spec: `COPY`/`ADD --chown`
 * and the directory a `WORKDIR` makes under `USER` (BuildKit's file operations; recorded in
 * fixtures/users/docker-recorded.json). Its rules are not runc's:
 * - a number is a uid and the gid too (`--chown=1000` is 1000:1000), and so is a group
 *   number; `root` and an empty part are 0;
 * - a number is a 32-bit signed integer, taken as unsigned (`-5` is 4294967291); one that
 *   does not fit is a name;
 * - a name is looked up (passwd: uid and gid of the first entry with that name; group: its
 *   gid), and a name not found is no error: the user's ids stay 0, the group's the user's;
 * - the file itself must exist when a name is looked up in it.
 */
import { fileMissing } from './errors.js';
import { parseGroup, parsePasswd, type UserFiles } from './files.js';

export interface ResolvedOwner {
  uid: number;
  gid: number;
}

function chownId(s: string): number | undefined {
  if (s === '' || s === 'root') return 0;
  if (!/^[+-]?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n < -(2 ** 31) || n > 2 ** 31 - 1 ? undefined : n >>> 0;
}

/** chown(2)'s -1 leaves the id as BuildKit's copy made it: root's. */
const owned = (id: number) => (id === 0xffffffff ? 0 : id);

export function resolveChown(spec: string, files: UserFiles): ResolvedOwner {
  const colon = spec.indexOf(':');
  const user = colon === -1 ? spec : spec.slice(0, colon);
  const group = colon === -1 ? undefined : spec.slice(colon + 1);
  let uid = chownId(user);
  let gid = uid;
  if (uid === undefined) {
    if (files.passwd === null) throw fileMissing(`user ${user}`, '/etc/passwd');
    const entry = parsePasswd(files.passwd).find((p) => p.name === user);
    uid = entry?.uid ?? 0;
    gid = entry?.gid ?? 0;
  }
  if (group !== undefined) {
    const id = chownId(group);
    if (id !== undefined) gid = id;
    else {
      if (files.group === null) throw fileMissing(`group ${group}`, '/etc/group');
      gid = parseGroup(files.group).find((g) => g.name === group)?.gid ?? gid;
    }
  }
  return { uid: owned(uid), gid: owned(gid ?? 0) };
}
