/**
 * What the command of a run sees, the same in every isolation mode: its working
 * directory (created, owned by the user, when missing; checked to be inside the root),
 * its environment (HOME from /etc/passwd when the request has none), and the small files
 * of the root read to resolve its user. Called on the thread that will spawn it, inside
 * the root (pivoted or chrooted), so paths resolve as the command's would.
 */
import { chownSync, closeSync, constants as fsc, fstatSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import * as libc from '../libc.js';
import { step } from './root.js';
import { SetupError } from './setup-error.js';
import type { ResolvedUser } from './user.js';

/** A small regular file of the rootfs, or null (missing, a FIFO, a device, too big). */
export function readRootFile(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    return st.isFile() && st.size <= 4 << 20 ? readFileSync(fd, 'utf8') : null;
  } finally {
    closeSync(fd);
  }
}

export function enterWorkdir(cwd: string, user: ResolvedUser): void {
  if (!cwd.startsWith('/')) throw new SetupError(`workdir ${JSON.stringify(cwd)} is not an absolute path`);
  step(`workdir ${cwd}`, () => {
    const first = mkdirSync(cwd, { recursive: true, mode: 0o755 });
    if (first !== undefined) {
      const rest = posix.relative(first, posix.resolve(cwd)).split('/').filter(Boolean);
      let p = first;
      chownSync(p, user.uid, user.gid);
      for (const part of rest) chownSync((p = posix.join(p, part)), user.uid, user.gid);
    }
    libc.chdir(cwd);
  });
  let real: string;
  try {
    real = libc.getcwd();
  } catch (err) {
    throw new SetupError(`workdir ${cwd} is outside the container root`, err);
  }
  if (!real.startsWith('/')) throw new SetupError(`workdir ${cwd} is outside the container root (${real})`);
}

export function environment(env: string[], home: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of env) {
    const eq = kv.indexOf('=');
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  if (!('HOME' in out)) out.HOME = home;
  return out;
}
