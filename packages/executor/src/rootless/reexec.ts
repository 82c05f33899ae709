/**
 * Rootless tsbuild: a non-root tsbuild re-executes itself as root of a new user
 * namespace (with a mount namespace of its own), and everything else (the store, the
 * sandbox) runs in there.
 *
 * Node cannot unshare(CLONE_NEWUSER) itself: the kernel refuses it to a multi-threaded
 * process, and node has threads from its start. So a child does it, and the parent maps
 * its ids from outside, as podman does:
 *
 *   parent (node, the user)         child
 *   spawn ───────────────────────>  unshare(1) --user --mount: a user namespace, then exec sh
 *                                   sh: writes "x" on fd 4, then blocks reading fd 3
 *   reads "x" on fd 4  <──────────
 *   newuidmap/newgidmap PID (subids), or writes uid_map, setgroups=deny, gid_map (own id)
 *   writes "go" on fd 3 ─────────>  sh: exec node with the same arguments, now root inside
 *   waits; forwards signals; exits with the child's status
 *
 * The handshake is two pipes, so it never depends on timing. util-linux's unshare and
 * sh are on every Debian system (essential packages), which keeps this small: unshare(1)
 * makes the namespaces, sh waits on a pipe, and the mapping stays here, where its errors
 * can be typed (unshare's own --map-users changed its syntax between util-linux
 * versions). The child runs in a session of its own, so a Ctrl-C reaches it once, from
 * here; in it tsbuild sets a parent-death signal (childOfRootless), so it ends when this
 * process is killed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { prctl, PR } from '../libc.js';
import { RootlessError } from './errors.js';
import type { IdRange } from './namespace.js';
import { which, type Mapping } from './preflight.js';

/** In the child's environment: the pid of the parent waiting outside. */
export const PARENT_ENV = 'TSBUILD_USERNS_PARENT';

const SCRIPT = 'printf x >&4; exec 4>&-; read -r go <&3; exec 3<&-; [ "$go" = go ] || exit 125; exec "$@"';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

export interface ReexecOptions {
  /** The command to run inside: `[process.execPath, ...process.execArgv, script, ...args]`. */
  argv: string[];
  /** The child's environment (the caller adds what it decided outside, such as the store's root). */
  env: NodeJS.ProcessEnv;
  mapping: Mapping;
}

export type ChildExit = { code: number; signal: null } | { code: null; signal: NodeJS.Signals };

/**
 * Run `argv` as root of a new user namespace and resolve with how it ended. Stdio is
 * inherited; SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to this process are passed on.
 */
export async function reexecInUserNamespace(opts: ReexecOptions): Promise<ChildExit> {
  const unshare = which('unshare', opts.env.PATH ?? '');
  const sh = which('sh', opts.env.PATH ?? '');
  if (!unshare || !sh) throw new RootlessError('user-namespaces', `rootless tsbuild needs ${!unshare ? "util-linux's unshare" : 'sh'} in the PATH (Debian: apt-get install util-linux)`);
  const child = spawn(unshare, ['--user', '--mount', '--propagation', 'private', '--', sh, '-c', SCRIPT, 'tsbuild', ...opts.argv], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe', 'pipe'],
    env: { ...opts.env, [PARENT_ENV]: String(process.pid) },
    detached: true,
  });
  const exited = new Promise<ChildExit>((resolve, reject) => {
    child.once('error', (err) => reject(new RootlessError('user-namespaces', `cannot start ${unshare}: ${err.message}`, { cause: err })));
    child.once('exit', (code, signal) => resolve(signal ? { code: null, signal } : { code: code ?? 1, signal: null }));
  });
  exited.catch(() => {});
  const go = child.stdio[3] as Writable;
  const ready = child.stdio[4] as Readable;
  go.on('error', () => {});
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  for (const s of FORWARDED) process.on(s, forward);
  try {
    if (!(await firstByte(ready))) {
      const end = await exited;
      throw new RootlessError('user-namespaces', `cannot create a user namespace: unshare ${end.signal ? `was killed by ${end.signal}` : `exited with ${end.code}`} (its message is above; a container's seccomp profile or a security module may forbid user namespaces)`);
    }
    try {
      writeMaps(child.pid!, opts.mapping);
    } catch (err) {
      child.kill('SIGKILL');
      await exited.catch(() => {});
      throw err;
    }
    go.end('go\n');
    return await exited;
  } finally {
    for (const s of FORWARDED) process.off(s, forward);
  }
}

/** Resolves true when a byte arrives, false at EOF. */
function firstByte(r: Readable): Promise<boolean> {
  return new Promise((resolve) => {
    r.once('data', () => {
      r.destroy();
      resolve(true);
    });
    r.once('end', () => resolve(false));
    r.once('error', () => resolve(false));
  });
}

const mapArgs = (m: IdRange[]) => m.flatMap((r) => [String(r.inside), String(r.outside), String(r.count)]);
const mapText = (m: IdRange[]) => m.map((r) => `${r.inside} ${r.outside} ${r.count}\n`).join('');

function writeMaps(pid: number, mapping: Mapping): void {
  if (mapping.kind === 'subids') {
    for (const [tool, map] of [[mapping.newuidmap!, mapping.uids], [mapping.newgidmap!, mapping.gids]] as const) {
      const r = spawnSync(tool, [String(pid), ...mapArgs(map)], { encoding: 'utf8' });
      if (r.status !== 0) {
        throw new RootlessError('id-mapping', `${tool} ${pid} ${mapArgs(map).join(' ')} failed: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()} (is ${tool} setuid root, as Debian's uidmap installs it, and are the ranges in /etc/subuid and /etc/subgid yours?)`);
      }
    }
    return;
  }
  // Without newgidmap an unprivileged process may map only its own gid, and only after
  // giving up setgroups(2) for the namespace (user_namespaces(7)).
  try {
    writeFileSync(`/proc/${pid}/uid_map`, mapText(mapping.uids));
    writeFileSync(`/proc/${pid}/setgroups`, 'deny');
    writeFileSync(`/proc/${pid}/gid_map`, mapText(mapping.gids));
  } catch (err) {
    throw new RootlessError('id-mapping', `cannot map your own ids in the new user namespace: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * In the re-executed tsbuild: ask for SIGTERM (which cancels like Ctrl-C) when the parent
 * outside dies. False when it is gone already (the caller should end).
 */
export function watchRootlessParent(env: NodeJS.ProcessEnv = process.env): boolean {
  const parent = Number(env[PARENT_ENV]);
  if (!Number.isInteger(parent) || parent <= 0) return true;
  prctl(PR.SET_PDEATHSIG, 15 /* SIGTERM */);
  return process.ppid === parent;
}
