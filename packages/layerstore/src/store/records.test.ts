/**
 * Typed record stores: both implementations run the conformance suite; a kind's owner
 * registers its roles on disk, so prune in another process keeps what a content-holding
 * kind holds and `prune --all` empties the build-cache kinds (keeping their registration).
 */
import { join } from 'node:path';
import test from 'ava';
import { tempDir } from '../testing/fstree.js';
import { putLayers } from '../testing/image.js';
import { MemoryRecordStore } from '../testing/memory-records.js';
import { recordStoreSuite } from '../testing/record-suite.js';
import { file } from '../testing/tarbuild.js';
import { prune } from './gc.js';
import { registeredKinds } from './records.js';
import { Store } from './store.js';

recordStoreSuite(test, 'filesystem', {
  make: async (t, kind, spec) => (await Store.open(join(await tempDir(t), 'store'))).records(kind, spec),
});

recordStoreSuite(test, 'memory', { make: async (_t, kind, spec) => new MemoryRecordStore(kind, spec) });

test('what a content-holding kind holds survives prune; prune --all empties the build-cache kinds and keeps them registered', async (t) => {
  const root = join(await tempDir(t), 'store');
  const owner = await Store.open(root);
  const image = await putLayers(owner, [[file('a', 'a')]]);
  const layer = image.manifest.layers[0]!.digest;
  await owner.records<object>('held', { holdsContent: true, buildCache: true }).put('k', { holds: { blobs: [layer] } });
  await owner.records<object>('unheld', {}).put('k', { holds: { blobs: [image.id] } });
  await owner.close();

  const other = await Store.open(root);
  t.deepEqual([...(await registeredKinds(other.cacheDir))], [['held', { holdsContent: true, buildCache: true }]]);
  await prune(other);
  t.true(await other.blobs.has(layer), 'held by a record of a registered kind');
  t.false(await other.blobs.has(image.id), 'an unregistered kind holds nothing');
  const all = await prune(other, { all: true });
  t.is(all.records, 1);
  t.deepEqual(await other.records('held').keys(), []);
  t.false(await other.blobs.has(layer));
  t.true((await registeredKinds(other.cacheDir)).get('held')?.holdsContent);
  await other.close();
});
