/**
 * A throwaway non-root user for the rootless tests: made with useradd, given subordinate
 * ids in /etc/subuid and /etc/subgid (or none: useradd's automatic ones are removed),
 * and removed again with its files. Commands run as it with setpriv, in a fresh HOME and
 * XDG_DATA_HOME, with a clean environment.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI, NO_HOST_REGISTRY_CONFIG, outputOf, run, type CliResult } from './cli.js';
import { removeDir, tempDir } from './fixtures.js';

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  /** Its home, a fresh directory it owns (also its working directory). */
  home: string;
  /** Where its store goes by default: $XDG_DATA_HOME/tsbuild. */
  store: string;
  /** The first subordinate id, when it has any. */
  subStart?: number;
  /** Run tsbuild (the repository's CLI, with this node) as the user. */
  tsbuild(args: string[], env?: Record<string, string>): Promise<CliResult>;
  remove(): Promise<void>;
}

const SUBID_FILES = ['/etc/subuid', '/etc/subgid'];

/** The file without the user's lines, plus `line` if given. */
async function rewriteSubids(name: string, line: string | undefined): Promise<void> {
  for (const f of SUBID_FILES) {
    const text = await readFile(f, 'utf8').catch(() => '');
    const kept = text.split('\n').filter((l) => l !== '' && !l.startsWith(`${name}:`));
    if (line) kept.push(line);
    await writeFile(f, kept.length ? `${kept.join('\n')}\n` : '');
  }
}

/** A start above every range in the files, so the new range overlaps nobody's. */
async function freeSubidStart(): Promise<number> {
  let end = 100000;
  for (const f of SUBID_FILES) {
    for (const l of (await readFile(f, 'utf8').catch(() => '')).split('\n')) {
      const [, s, c] = l.split(':');
      if (s && c) end = Math.max(end, Number(s) + Number(c));
    }
  }
  return end + 65536;
}

/** `subids`: how many subordinate ids (0: none). */
export async function createUser(subids: number): Promise<TestUser> {
  const name = `tsbrl${process.pid % 100000}${Math.floor(Math.random() * 1000)}`;
  const dir = await tempDir('rootless-user');
  const home = join(dir, 'home');
  await run('useradd', ['--home-dir', home, '--create-home', '--shell', '/bin/sh', '--user-group', name]);
  const ids = await run('id', ['-u', name]);
  const gids = await run('id', ['-g', name]);
  const uid = Number(ids.stdout.trim());
  const gid = Number(gids.stdout.trim());
  const subStart = subids > 0 ? await freeSubidStart() : undefined;
  await rewriteSubids(name, subStart === undefined ? undefined : `${name}:${subStart}:${subids}`);
  await chown(dir, uid, gid);
  const user: TestUser = {
    name,
    uid,
    gid,
    home,
    store: join(home, '.local/share/tsbuild'),
    ...(subStart !== undefined ? { subStart } : {}),
    tsbuild: (args, env = {}) => asUser(user, [process.execPath, CLI, ...args], env),
    remove: async () => {
      await run('userdel', ['--force', '--remove', name], { allowFail: true });
      await rewriteSubids(name, undefined);
      await removeDir(dir);
    },
  };
  return user;
}

/** A directory of the user's, for contexts and outputs. */
export async function userDir(user: TestUser, name: string): Promise<string> {
  const d = join(user.home, name);
  await mkdir(d, { recursive: true });
  await chown(d, user.uid, user.gid);
  return d;
}

/** Start `argv` as the user (setpriv: its uid, gid and groups, then exec), in its home, with a clean environment. */
export function spawnAsUser(user: TestUser, argv: string[], env: Record<string, string> = {}): ChildProcessByStdio<null, Readable, Readable> {
  const fullEnv = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: user.home,
    XDG_DATA_HOME: join(user.home, '.local/share'),
    ...NO_HOST_REGISTRY_CONFIG,
    ...env,
  };
  return spawn('/usr/bin/setpriv', ['--reuid', String(user.uid), '--regid', String(user.gid), '--init-groups', '--', ...argv], { cwd: user.home, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Run `argv` as the user (spawnAsUser) to its end. */
export function asUser(user: TestUser, argv: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return outputOf(spawnAsUser(user, argv, env));
}

/** Pids of the processes whose real uid `owned` accepts. */
export async function processesOf(owned: (uid: number) => boolean): Promise<number[]> {
  const { readdir } = await import('node:fs/promises');
  const out: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const m = /^Uid:\s+(\d+)/m.exec(status);
    if (m && owned(Number(m[1]))) out.push(Number(pid));
  }
  return out;
}
