/**
 * What a build wrote to the store, so a failed build can take it back: blobs and
 * snapshots this process created during the build and that no tag reaches.
 */
import type { Digest, Store } from '@tsbuild/layerstore';

export class StoreChanges {
  private readonly blobs = new Set<Digest>();
  private readonly snapshots = new Set<Digest>();
  private readonly onBlob = (d: Digest) => this.blobs.add(d);
  private readonly onSnapshot = (d: Digest) => this.snapshots.add(d);

  private constructor(private readonly store: Store) {
    store.blobs.onCreate.add(this.onBlob);
    store.snapshots.onCommit.add(this.onSnapshot);
  }

  static async begin(store: Store): Promise<StoreChanges> {
    return new StoreChanges(store);
  }

  /** Keep everything: the build succeeded. */
  commit(): void {
    this.stop();
  }

  async rollback(): Promise<void> {
    this.stop();
    const reachable = await this.store.reachable();
    for (const d of this.blobs) if (!reachable.blobs.has(d)) await this.store.blobs.delete(d);
    for (const c of this.snapshots) if (!reachable.snapshots.has(c)) await this.store.snapshots.remove(c);
  }

  private stop(): void {
    this.store.blobs.onCreate.delete(this.onBlob);
    this.store.snapshots.onCommit.delete(this.onSnapshot);
  }
}
