/** Both TagStore implementations run the one conformance suite. */
import { join } from 'node:path';
import test from 'ava';
import { tempDir } from '../testing/fstree.js';
import { MemoryTagStore } from '../testing/memory-tags.js';
import { tagStoreSuite } from '../testing/tag-suite.js';
import { TagIndex } from './tags.js';

tagStoreSuite(test, 'index.json', {
  async make(t) {
    const root = await tempDir(t);
    return new TagIndex(root, join(root, 'locks'));
  },
});

tagStoreSuite(test, 'memory', { make: async () => new MemoryTagStore() });
