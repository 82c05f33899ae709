/**
 * User and group names resolved the way Docker does, from the root filesystem being
 * built (`/etc/passwd`, `/etc/group` read inside the root, never the host's).
 *   --chown=name      -> the user's uid and primary gid
 *   --chown=1000      -> 1000:1000
 *   --chown=name:grp  -> uid of name, gid of grp
 *   --chown=:grp      -> 0:gid
 */
import { readFile } from 'node:fs/promises';
import type { RootFs } from '@tsbuild/layerstore';
import { BuildError, type SourceLocation } from '../errors.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export class UserNotFoundError extends Error {}

async function readInRoot(root: RootFs, path: string): Promise<string | undefined> {
  const cs = await root.resolve(path, { followFinal: true });
  const e = await root.lookup(cs);
  if (!e || !e.stat.isFile()) return undefined;
  return (await readFile(e.host)).toString('utf8');
}

export async function readPasswd(root: RootFs): Promise<PasswdEntry[]> {
  const text = (await readInRoot(root, '/etc/passwd')) ?? '';
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || line.startsWith('#')) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, uid, gid, home: f[5] ?? '/' });
  }
  return out;
}

export async function readGroup(root: RootFs): Promise<GroupEntry[]> {
  const text = (await readInRoot(root, '/etc/group')) ?? '';
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || line.startsWith('#')) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, gid, members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

const isId = (s: string) => /^\d+$/.test(s);

/** Resolve a `--chown` value; throws UserNotFoundError naming what is missing. */
export async function resolveChown(spec: string, root: RootFs): Promise<{ uid: number; gid: number }> {
  const [user = '', group] = spec.split(':', 2);
  let uid = 0;
  let gid: number | undefined;
  if (user !== '') {
    if (isId(user)) {
      uid = Number(user);
      gid = uid;
    } else {
      const entry = (await readPasswd(root)).find((p) => p.name === user);
      if (!entry) throw new UserNotFoundError(`unable to find user ${user}: no matching entries in passwd file`);
      uid = entry.uid;
      gid = entry.gid;
    }
  }
  if (group !== undefined && group !== '') {
    if (isId(group)) gid = Number(group);
    else {
      const entry = (await readGroup(root)).find((g) => g.name === group);
      if (!entry) throw new UserNotFoundError(`unable to find group ${group}: no matching entries in group file`);
      gid = entry.gid;
    }
  }
  return { uid, gid: gid ?? 0 };
}

/**
 * Resolve a USER value for running a process: uid, gid, supplementary groups and home,
 * like Docker (a numeric uid need not exist in /etc/passwd).
 */
export async function resolveUser(spec: string, root: RootFs): Promise<{ uid: number; gid: number; groups: number[]; home: string }> {
  const [user = '', group] = spec.split(':', 2);
  const passwd = await readPasswd(root);
  const byName = passwd.find((p) => p.name === user);
  const byId = isId(user) ? passwd.find((p) => p.uid === Number(user)) : undefined;
  const entry = byName ?? byId;
  if (!entry && !isId(user) && user !== '') throw new UserNotFoundError(`unable to find user ${user}: no matching entries in passwd file`);
  const uid = entry?.uid ?? (user === '' ? 0 : Number(user));
  let gid = entry?.gid ?? uid;
  const groups = await readGroup(root);
  if (group !== undefined && group !== '') {
    if (isId(group)) gid = Number(group);
    else {
      const g = groups.find((x) => x.name === group);
      if (!g) throw new UserNotFoundError(`unable to find group ${group}: no matching entries in group file`);
      gid = g.gid;
    }
  }
  const name = entry?.name;
  const supplementary = group === undefined && name ? groups.filter((g) => g.members.includes(name)).map((g) => g.gid) : [];
  return { uid, gid, groups: [...new Set([gid, ...supplementary])], home: entry?.home ?? '/' };
}

/**
 * The USER a step runs as (root when there is none), with a missing user or group as a
 * build error naming the instruction and its line.
 */
export async function stepUser(spec: string | undefined, root: RootFs, ins: { kind: string; location: SourceLocation }): Promise<{ uid: number; gid: number; groups: number[]; home: string }> {
  if (!spec) return { uid: 0, gid: 0, groups: [0], home: '/' };
  try {
    return await resolveUser(spec, root);
  } catch (err) {
    if (err instanceof UserNotFoundError) throw new BuildError('TSBUILD_INVALID_ARGUMENT', `${ins.kind}: ${err.message}`, { location: ins.location });
    throw err;
  }
}
