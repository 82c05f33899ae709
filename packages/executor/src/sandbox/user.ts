/**
 * Resolve a user spec against the rootfs's /etc/passwd and /etc/group, the way Docker
 * (runc's `user.GetExecUser`) does: `name`, `uid`, `name:group` or `uid:gid`; a numeric
 * uid needs no passwd entry (gid 0, HOME /), a name must have one; supplementary groups
 * are the /etc/group entries that list the user's name. Pure functions: the worker reads
 * the files inside the pivoted root and passes their text in.
 */
import type { UserSpec } from '../types.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  groups: number[];
  home: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

const ID = /^\d+$/;
const MAX_ID = 0xfffffffe;

function parseId(s: string | undefined): number | undefined {
  if (s === undefined || !ID.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_ID ? n : undefined;
}

function lines(text: string | null): string[][] {
  if (!text) return [];
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(':'));
}

export function parsePasswd(text: string | null): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of lines(text)) {
    const uid = parseId(f[2]);
    const gid = parseId(f[3]);
    if (f.length < 7 || !f[0] || uid === undefined || gid === undefined) continue;
    out.push({ name: f[0], uid, gid, home: f[5] || '/' });
  }
  return out;
}

export function parseGroup(text: string | null): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of lines(text)) {
    const gid = parseId(f[2]);
    if (f.length < 4 || !f[0] || gid === undefined) continue;
    out.push({ name: f[0], gid, members: f[3] ? f[3].split(',').filter(Boolean) : [] });
  }
  return out;
}

export class UserResolutionError extends Error {}

export function resolveUser(spec: UserSpec, passwdText: string | null, groupText: string | null): ResolvedUser {
  const passwd = parsePasswd(passwdText);
  if (typeof spec !== 'string') {
    const home = passwd.find((p) => p.uid === spec.uid)?.home ?? '/';
    return { uid: spec.uid, gid: spec.gid, groups: spec.groups ? [...spec.groups] : [], home };
  }
  const [userPart = '', groupPart] = spec.split(/:(.*)/s, 2);
  if (userPart === '') throw new UserResolutionError(`invalid user "${spec}"`);
  const numeric = parseId(userPart);
  const entry = numeric !== undefined ? passwd.find((p) => p.uid === numeric) : passwd.find((p) => p.name === userPart);
  if (!entry && numeric === undefined) throw new UserResolutionError(`unable to find user ${userPart}: no matching entries in passwd file`);
  const groups = parseGroup(groupText);
  let gid = entry?.gid ?? 0;
  if (groupPart !== undefined && groupPart !== '') {
    const g = parseId(groupPart);
    if (g !== undefined) gid = g;
    else {
      const named = groups.find((x) => x.name === groupPart);
      if (!named) throw new UserResolutionError(`unable to find group ${groupPart}: no matching entries in group file`);
      gid = named.gid;
    }
  }
  const supplementary = entry ? groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid) : [];
  return { uid: entry?.uid ?? numeric!, gid, groups: [...new Set(supplementary)], home: entry?.home ?? '/' };
}
