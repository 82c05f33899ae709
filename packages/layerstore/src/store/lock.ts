/**
 * Cross-process advisory locks (flock) on files under `<root>/locks/`.
 * The kernel drops a lock when its holder dies, so a crash never leaves one held.
 * Waiting polls with LOCK_NB, so the event loop is never blocked.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { flock, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN } from '../sys/libc.js';
import { LayerstoreError } from '../errors.js';

export interface Lock {
  release(): Promise<void>;
}

export interface LockOptions {
  shared?: boolean;
  /** Give up after this many ms (default: wait forever). */
  timeoutMs?: number;
  /** Fail at once instead of waiting. */
  noWait?: boolean;
}

export async function acquireLock(dir: string, name: string, opts: LockOptions = {}): Promise<Lock> {
  await mkdir(dir, { recursive: true });
  const fh: FileHandle = await open(join(dir, name), 'a', 0o644);
  const op = (opts.shared ? LOCK_SH : LOCK_EX) | LOCK_NB;
  const started = Date.now();
  let delay = 1;
  try {
    while (!flock(fh.fd, op)) {
      if (opts.noWait || (opts.timeoutMs !== undefined && Date.now() - started > opts.timeoutMs)) {
        throw new LayerstoreError('TSBUILD_STORE_LOCKED', `store lock ${name} is held by another tsbuild process`);
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 50);
    }
  } catch (err) {
    await fh.close();
    throw err;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      flock(fh.fd, LOCK_UN);
      await fh.close();
    },
  };
}

export async function withLock<T>(dir: string, name: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const lock = await acquireLock(dir, name, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
