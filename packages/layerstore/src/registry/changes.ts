/**
 * What one pull added to the store, so that a failed pull leaves nothing behind: blobs
 * this pull committed are deleted on failure unless a tag reaches them or another
 * operation of this process (a concurrent pull of an image sharing a layer) is using them.
 * (Another *process* relying on such a blob is the same race store/changes.ts accepts.)
 */
import type { Digest } from '../digest.js';
import type { Store } from '../store/store.js';

const inUse = new Map<string, Map<Digest, number>>();

export class PullChanges {
  private readonly created = new Set<Digest>();
  private readonly used = new Set<Digest>();
  private readonly counts: Map<Digest, number>;

  constructor(private readonly store: Store) {
    let m = inUse.get(store.root);
    if (!m) inUse.set(store.root, (m = new Map()));
    this.counts = m;
  }

  /** The pull relies on this blob (existing or about to be written). */
  use(digest: Digest): void {
    if (this.used.has(digest)) return;
    this.used.add(digest);
    this.counts.set(digest, (this.counts.get(digest) ?? 0) + 1);
  }

  /** The pull committed this blob. */
  add(digest: Digest): void {
    this.use(digest);
    this.created.add(digest);
  }

  /** Whether the pull committed any blob. */
  get wroteAny(): boolean {
    return this.created.size > 0;
  }

  /** Success: keep everything. */
  done(): void {
    for (const d of this.used) {
      const n = (this.counts.get(d) ?? 1) - 1;
      if (n <= 0) this.counts.delete(d);
      else this.counts.set(d, n);
    }
    this.used.clear();
  }

  async rollback(): Promise<void> {
    const created = [...this.created];
    const shared = new Set(created.filter((d) => (this.counts.get(d) ?? 0) > 1));
    this.done();
    if (created.length === 0) return;
    const reachable = await this.store.reachable();
    for (const d of created) if (!shared.has(d) && !reachable.blobs.has(d)) await this.store.blobs.delete(d);
  }
}
