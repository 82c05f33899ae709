/** An in-memory TagStore for callers' tests: the same verbs as the store's index.json (IndexTags), no disk. */
import type { Descriptor, Index } from '../image/types.js';
import { emptyIndex, IndexTags } from '../store/tag-store.js';

export class MemoryTagStore extends IndexTags {
  private index: Index = emptyIndex();

  async read(): Promise<Index> {
    return structuredClone(this.index);
  }

  /** Synchronous between read and write, so no other update interleaves. */
  protected async write(change: (manifests: Descriptor[]) => Descriptor[]): Promise<void> {
    this.index = { ...this.index, manifests: change(structuredClone(this.index.manifests)) };
  }
}
