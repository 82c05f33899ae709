/**
 * A process's lease on the blobs and snapshots it uses or creates, so that a prune
 * running at the same time in another process keeps them.
 *
 * A lease is a file `leases/<pid>-<rand>` held with an exclusive flock for the life of
 * the process (the kernel drops the lock when the process dies, however it dies), with
 * one line per claim: `b <digest>` or `s <chain id>`.
 *
 * Protocol with prune (store/gc.ts), around `locks/gc.lock`:
 *   claim:  flock(gc, SH) -> append to the lease -> unlock. Callers claim an item
 *           BEFORE relying on it: before checking that a blob exists, before renaming a
 *           new blob or snapshot into place.
 *   prune:  flock(gc, EX) for the whole mark and sweep; reads every live lease.
 * So prune either sees a claim, or finished before it (then the claimant finds the item
 * missing and writes it again).
 */
import { mkdir, open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isDigest, type Digest } from '../digest.js';
import { flock, LOCK_EX, LOCK_NB, LOCK_UN } from '../sys/libc.js';
import { tempName } from './fsutil.js';
import { acquireLock } from './lock.js';

export const GC_LOCK = 'gc.lock';

export class Lease {
  private opening: Promise<FileHandle> | undefined;
  private readonly claimed = new Set<string>();
  /** Set while this process itself holds the gc lock exclusively (prune): claims would wait on it. */
  private suspended = 0;

  /** Run `fn` with claims off; for code that already holds the gc lock exclusively. */
  async withoutClaims<T>(fn: () => Promise<T>): Promise<T> {
    this.suspended++;
    try {
      return await fn();
    } finally {
      this.suspended--;
    }
  }

  constructor(private readonly leasesDir: string, private readonly locksDir: string) {}

  /** Claim items (idempotent; cheap when already claimed). */
  async claim(blobs: readonly Digest[], snapshots: readonly Digest[] = []): Promise<void> {
    const lines = [...blobs.map((d) => `b ${d}`), ...snapshots.map((d) => `s ${d}`)].filter((l) => !this.claimed.has(l));
    if (lines.length === 0 || this.suspended > 0) return;
    const fh = await this.handle();
    const gc = await acquireLock(this.locksDir, GC_LOCK, { shared: true });
    try {
      await fh.write(`${lines.join('\n')}\n`);
      for (const l of lines) this.claimed.add(l);
    } finally {
      await gc.release();
    }
  }

  /** This lease's file, once it has one. */
  async path(): Promise<string | undefined> {
    const fh = await this.opening;
    return fh ? pathOf(fh) : undefined;
  }

  /** Give the lease up (at the end of a command; a crash gives it up too). */
  async release(): Promise<void> {
    const fh = await this.opening;
    if (!fh) return;
    this.opening = undefined;
    this.claimed.clear();
    await rm(pathOf(fh), { force: true });
    flock(fh.fd, LOCK_UN);
    await fh.close();
  }

  private handle(): Promise<FileHandle> {
    this.opening ??= (async () => {
      await mkdir(this.leasesDir, { recursive: true });
      const path = join(this.leasesDir, tempName(''));
      const fh = await open(path, 'wx', 0o644);
      flock(fh.fd, LOCK_EX);
      paths.set(fh, path);
      return fh;
    })();
    return this.opening;
  }
}

const paths = new WeakMap<FileHandle, string>();
function pathOf(fh: FileHandle): string {
  return paths.get(fh)!;
}

export interface LeaseSet {
  blobs: Set<Digest>;
  snapshots: Set<Digest>;
}

/**
 * What the live leases claim. Leases of dead processes (their flock is free) are
 * removed. Call with the gc lock held exclusively.
 */
export async function liveLeases(leasesDir: string, opts: { exclude?: string } = {}): Promise<LeaseSet> {
  const out: LeaseSet = { blobs: new Set(), snapshots: new Set() };
  for (const name of await readdir(leasesDir).catch(() => [] as string[])) {
    const path = join(leasesDir, name);
    if (path === opts.exclude) continue;
    const fh = await open(path, 'r').catch(() => undefined);
    if (!fh) continue;
    try {
      if (flock(fh.fd, LOCK_EX | LOCK_NB)) {
        // Its owner is gone.
        await rm(path, { force: true });
        continue;
      }
      for (const line of (await readFile(path, 'utf8')).split('\n')) {
        const [kind, d] = line.split(' ');
        if (!isDigest(d)) continue;
        if (kind === 'b') out.blobs.add(d);
        else if (kind === 's') out.snapshots.add(d);
      }
    } finally {
      await fh.close();
    }
  }
  return out;
}
