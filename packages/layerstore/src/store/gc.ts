/**
 * `tsbuild prune`: remove the blobs, snapshots and cache records that no tag reaches and
 * no running tsbuild process has claimed (lease.ts). Mark and sweep run under the
 * store's gc lock held exclusively, so claims made meanwhile wait and then find what
 * they need (or write it again).
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isDigest, type Digest } from '../digest.js';
import { GC_LOCK, liveLeases } from './lease.js';
import { withLock } from './lock.js';
import { registeredKinds } from './records.js';
import type { Store } from './store.js';

export interface PruneResult {
  blobs: number;
  snapshots: number;
  records: number;
  bytes: number;
}

export async function prune(store: Store, opts: { onRemove?: (what: string) => void; /** Also empty the build cache. */ all?: boolean } = {}): Promise<PruneResult> {
  return withLock(store.locksDir, GC_LOCK, () => store.lease.withoutClaims(async () => {
    await store.recover();
    const result: PruneResult = { blobs: 0, snapshots: 0, records: 0, bytes: 0 };
    if (opts.all) {
      const kinds = await registeredKinds(store.cacheDir);
      for (const kind of [...kinds.keys()].filter((k) => kinds.get(k)!.buildCache).sort()) {
        const dir = join(store.cacheDir, kind);
        const n = (await readdir(dir).catch(() => [] as string[])).length;
        await rm(dir, { recursive: true, force: true });
        result.records += n;
        if (n > 0) opts.onRemove?.(`${n} ${kind} records (the build cache)`);
      }
    }
    const unnamed = await store.tags.removeUnnamed();
    if (unnamed > 0) opts.onRemove?.(`${unnamed} untagged images`);
    // Leases first, then tags and records: a build tags (or records) its result before it
    // releases its lease, and cannot claim anything new while we hold the gc lock, so
    // whatever it holds is in one of the two reads. The other order loses a result
    // tagged and released between them.
    const leased = await liveLeases(store.leasesDir);
    const reach = await store.reachable();
    for await (const d of store.blobs.list()) {
      if (reach.blobs.has(d) || leased.blobs.has(d)) continue;
      result.bytes += (await store.blobs.size(d)) ?? 0;
      await store.blobs.delete(d);
      result.blobs++;
      opts.onRemove?.(`blob ${d}`);
    }
    for (const c of await store.snapshots.list()) {
      if (reach.snapshots.has(c) || leased.snapshots.has(c)) continue;
      await store.snapshots.remove(c);
      result.snapshots++;
      opts.onRemove?.(`snapshot ${c}`);
    }
    result.records += await pruneRecords(store);
    return result;
  }));
}

/** Records that point at blobs that are gone (e.g. compressed variants) are dropped. */
async function pruneRecords(store: Store): Promise<number> {
  let removed = 0;
  for (const kind of await readdir(store.cacheDir).catch(() => [] as string[])) {
    if (kind.startsWith('.')) continue;
    const dir = join(store.cacheDir, kind);
    if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) continue;
    for (const key of await readdir(dir)) {
      const rec = await store.records<{ digest?: string }>(kind).get(key);
      const target = rec?.digest;
      if (rec === undefined || (isDigest(target) && !(await store.blobs.has(target as Digest)))) {
        await rm(join(dir, key), { force: true });
        removed++;
      }
    }
  }
  return removed;
}
