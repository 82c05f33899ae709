/**
 * The blobs one import committed, so it can keep only what it needs.
 *
 * Lifecycle: an importer writes every blob through `write`/`writeBytes` (the journal
 * remembers the ones this call created; blobs that were already in the store are never
 * touched), then either
 *   - `finish(keep)`: the import succeeded; created blobs outside `keep` are deleted
 *     (archive files no image referenced), or
 *   - `abort()`: the import failed; every created blob is deleted.
 * Either way a blob some tag reaches by then (another process may have tagged an image
 * that shares it) stays.
 *
 *   const journal = new BlobJournal(store);
 *   try { ...; await journal.finish(new Set([manifest, config, ...layers])); }
 *   catch (err) { await journal.abort(); throw err; }
 */
import type { Digest } from '../digest.js';
import type { ByteSource, Expected, WriteResult } from '../store/blobs.js';
import type { Store } from '../store/store.js';
import { discard } from '../store/changes.js';

export class BlobJournal {
  readonly created = new Set<Digest>();

  constructor(readonly store: Store) {}

  async write(source: ByteSource, expect: Expected = {}): Promise<WriteResult> {
    const res = await this.store.blobs.write(source, expect);
    if (res.created) this.created.add(res.digest);
    return res;
  }

  async writeBytes(data: Buffer, expect: Expected = {}): Promise<WriteResult> {
    return this.write([data], expect);
  }

  /** Success: delete the created blobs that are not in `keep`. */
  async finish(keep: ReadonlySet<Digest>): Promise<void> {
    await this.discard((d) => !keep.has(d));
  }

  /** Failure: delete every created blob. Never throws (the original error matters more). */
  async abort(): Promise<void> {
    await this.discard(() => true).catch(() => {});
  }

  private async discard(unwanted: (d: Digest) => boolean): Promise<void> {
    const candidates = [...this.created].filter(unwanted);
    await discard(this.store, candidates);
    for (const d of candidates) this.created.delete(d);
  }
}
