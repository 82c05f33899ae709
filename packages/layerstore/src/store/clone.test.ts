/** cloneStore / copyImage / discardStore: a scratch store sees the bases, and what it builds comes back verified. */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { tempDir } from '../testing/fstree.js';
import { putLayers } from '../testing/image.js';
import { file } from '../testing/tarbuild.js';
import { cloneStore, copyImage, discardStore } from './clone.js';
import { Store } from './store.js';

test('a clone holds the blobs and tags of its source, and nothing it builds reaches the source until copied', async (t) => {
  const main = await Store.open(join(await tempDir(t), 'store'));
  const base = await putLayers(main, [[file('a', 'a')]]);
  await main.tag(base, 'base:1');
  const scratch = await cloneStore(main, 'test-');
  t.true(scratch.root.startsWith(main.tmpDir));
  t.is((await scratch.resolveImage('base:1')).id, base.id);
  const built = await putLayers(scratch, [[file('a', 'a')], [file('b', 'b')]]);
  await t.throwsAsync(main.loadImage(built.manifestDescriptor));
  const copied = await copyImage(scratch, main, built);
  t.is(copied.id, built.id);
  t.is((await main.loadImage(built.manifestDescriptor)).manifestDescriptor.digest, built.manifestDescriptor.digest);
  await discardStore(scratch);
  await t.throwsAsync(access(scratch.root));
  await main.close();
});
