/**
 * What one operation wrote to the store, so a failure can take it back: the blobs and
 * snapshots this process created while tracking, minus anything a tag reaches.
 *
 *   const changes = trackChanges(store);
 *   try { ...; changes.commit(); } catch (err) { await changes.rollback(); throw err; }
 */
import type { Digest } from '../digest.js';
import type { Store } from './store.js';
import { GC_LOCK, liveLeases } from './lease.js';
import { withLock } from './lock.js';
import { dropRecordsOf } from './blob-bound-records.js';

export interface StoreChanges {
  /** Keep everything. */
  commit(): void;
  /** Delete what was created and is not reachable from a tag. */
  rollback(): Promise<void>;
}

export function trackChanges(store: Store): StoreChanges {
  const blobs = new Set<Digest>();
  const snapshots = new Set<Digest>();
  const onBlob = (d: Digest) => blobs.add(d);
  const onSnapshot = (d: Digest) => snapshots.add(d);
  store.blobs.onCreate.add(onBlob);
  store.snapshots.onCommit.add(onSnapshot);
  const stop = () => {
    store.blobs.onCreate.delete(onBlob);
    store.snapshots.onCommit.delete(onSnapshot);
  };
  return {
    commit: stop,
    async rollback() {
      stop();
      await discard(store, blobs, snapshots);
    },
  };
}

/**
 * Delete blobs and snapshots this process created and no longer wants, keeping any that
 * an image (tagged or not) reaches or another live process has claimed: a concurrent
 * build may rely on a blob we also wrote. The cache records named after a deleted blob
 * go with it (blob-bound-records.ts). Runs under the gc lock, like prune.
 */
export async function discard(store: Store, blobs: Iterable<Digest>, snapshots: Iterable<Digest> = []): Promise<void> {
  const b = [...blobs];
  const s = [...snapshots];
  if (b.length === 0 && s.length === 0) return;
  const own = await store.lease.path();
  await withLock(store.locksDir, GC_LOCK, () =>
    store.lease.withoutClaims(async () => {
      // Leases before tags, as in prune (gc.ts): another build tags before it releases.
      const others = await liveLeases(store.leasesDir, own ? { exclude: own } : {});
      const reachable = await store.reachable({ unnamed: true });
      for (const d of b) {
        if (reachable.blobs.has(d) || others.blobs.has(d)) continue;
        await store.blobs.delete(d);
        await dropRecordsOf(store, d);
      }
      for (const c of s) if (!reachable.snapshots.has(c) && !others.snapshots.has(c)) await store.snapshots.remove(c);
    }),
  );
}

/** Run `fn`; if it throws, remove what it added to the store. */
export async function transaction<T>(store: Store, fn: () => Promise<T>): Promise<T> {
  const changes = trackChanges(store);
  try {
    const out = await fn();
    changes.commit();
    return out;
  } catch (err) {
    await changes.rollback().catch(() => {});
    throw err;
  }
}
