/**
 * prune against a build in another process: what the build holds is either leased or
 * tagged at every moment, and prune must see it in one of the two.
 */
import { join } from 'node:path';
import test from 'ava';
import { tempDir } from '../testing/fstree.js';
import { putLayers } from '../testing/image.js';
import { dir, file } from '../testing/tarbuild.js';
import { prune } from './gc.js';
import { Store } from './store.js';

const LAYERS = [[dir('etc'), file('etc/os', 'one')], [file('etc/app', 'two')]];

async function present(store: Store, digests: string[]): Promise<boolean[]> {
  return Promise.all(digests.map((d) => store.blobs.has(d as never)));
}

test('a build that tags its image and releases its lease while prune marks loses nothing', async (t) => {
  const root = join(await tempDir(t), 'store');
  const build = await Store.open(root);
  const image = await putLayers(build, LAYERS);
  const digests = [image.manifestDescriptor.digest, image.manifest.config.digest, ...image.manifest.layers.map((l) => l.digest)];
  const pruner = await Store.open(root);
  // The worst moment: right after prune has read the tags, the build tags and exits.
  const reachable = pruner.reachable.bind(pruner);
  pruner.reachable = async (opts) => {
    const reach = await reachable(opts);
    await build.tag(image, 'app:1');
    await build.close();
    return reach;
  };
  const result = await prune(pruner);
  t.deepEqual(await present(pruner, digests), digests.map(() => true), `removed: ${result.blobs} blobs`);
  t.is((await pruner.resolveImage('app:1')).id, image.id);
});

test('what neither a tag nor a live lease holds is removed', async (t) => {
  const root = join(await tempDir(t), 'store');
  const build = await Store.open(root);
  const image = await putLayers(build, LAYERS);
  await build.close();
  const result = await prune(await Store.open(root));
  t.true(result.blobs >= 4, `removed ${result.blobs} blobs`);
  t.deepEqual(await present(build, [image.manifest.config.digest]), [false]);
});
