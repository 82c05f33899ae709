/** The filesystem snapshot store runs the SnapshotStore conformance suite. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { tempDir } from '../testing/fstree.js';
import { snapshotStoreSuite } from '../testing/snapshot-suite.js';
import { Snapshots } from './snapshots.js';

snapshotStoreSuite(test, 'filesystem', {
  async make(t) {
    const root = await tempDir(t);
    const snapshots = new Snapshots(root);
    await snapshots.init();
    const scratch = join(root, 'scratch');
    await mkdir(scratch);
    return { snapshots, scratch };
  },
});
