/** Both ContentStore implementations run the one conformance suite. */
import { readFile, writeFile } from 'node:fs/promises';
import test from 'ava';
import { tempDir } from '../testing/fstree.js';
import { contentStoreSuite } from '../testing/content-suite.js';
import { MemoryContentStore } from '../testing/memory-content.js';
import { BlobStore } from './blobs.js';

contentStoreSuite(test, 'filesystem', {
  async make(t) {
    const s = new BlobStore(await tempDir(t));
    await s.init();
    return s;
  },
  async corrupt(s, digest) {
    const bytes = await readFile(s.path(digest));
    bytes[0] = bytes[0]! ^ 0xff;
    await writeFile(s.path(digest), bytes);
  },
});

contentStoreSuite(test, 'memory', {
  make: async () => new MemoryContentStore(),
  corrupt: async (s, digest) => s.corrupt(digest),
});
