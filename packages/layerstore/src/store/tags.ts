/**
 * The filesystem TagStore (tag-store.ts): the OCI layout's `index.json`, so `skopeo
 * inspect oci:<root>:<tag>` reads the tags. Every update takes the index lock,
 * re-reads, changes, and replaces the file atomically, so concurrent tsbuild processes
 * never lose a tag.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError } from '../errors.js';
import { MediaType } from '../image/media-types.js';
import type { Descriptor, Index } from '../image/types.js';
import { parseJson } from '../image/json.js';
import { asIndex } from '../image/validate.js';
import { writeFileAtomic } from './fsutil.js';
import { withLock } from './lock.js';
import { emptyIndex, IndexTags } from './tag-store.js';

export { emptyIndex, type Tag, type TagStore } from './tag-store.js';

export class TagIndex extends IndexTags {
  readonly path: string;

  constructor(readonly root: string, private readonly locksDir: string) {
    super();
    this.path = join(root, 'index.json');
  }

  async read(): Promise<Index> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyIndex();
      throw ioError(`read ${this.path}`, err);
    }
    return asIndex(parseJson(text, this.path), this.path);
  }

  protected async write(change: (manifests: Descriptor[]) => Descriptor[]): Promise<void> {
    await withLock(this.locksDir, 'index.lock', async () => {
      const index = await this.read();
      const next: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: change(index.manifests) };
      await writeFileAtomic(this.path, `${JSON.stringify(next, null, 2)}\n`).catch((err) => {
        throw ioError(`write ${this.path}`, err);
      });
    });
  }
}
