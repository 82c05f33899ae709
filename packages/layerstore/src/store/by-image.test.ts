/** Names grouped by image ID (config digest): several manifests of one image are one image. */
import test from 'ava';
import { join } from 'node:path';
import { imageAs } from '../export/image-as.js';
import { tempDir } from '../testing/fstree.js';
import { putLayers } from '../testing/image.js';
import { file } from '../testing/tarbuild.js';
import { imagesById, namesOf } from './by-image.js';
import { Store } from './store.js';

async function setup(t: Parameters<typeof tempDir>[0]) {
  const store = await Store.open(join(await tempDir(t), 'store'));
  t.teardown(() => store.close());
  const plain = await putLayers(store, [[file('a', 'aaa')], [file('b', 'bb')]]);
  const gzip = await imageAs(store, plain, { compression: 'gzip' });
  const zstd = await imageAs(store, plain, { compression: 'zstd' });
  const other = await putLayers(store, [[file('c', 'c')]]);
  return { store, plain, gzip, zstd, other };
}

test('every name whose manifest has the config is a name of the image', async (t) => {
  const { store, plain, gzip, zstd, other } = await setup(t);
  t.not(gzip.manifestDescriptor.digest, plain.manifestDescriptor.digest);
  t.is(gzip.id, plain.id);
  await store.tag(plain, 'app:plain');
  await store.tag(gzip, 'app:gzip');
  await store.tag(gzip, 'mirror/app:1');
  await store.recordUnnamed(zstd);
  await store.tag(other, 'other:1');
  const listing = await imagesById(store);
  t.is(listing.length, 2, 'two image IDs, not four manifests');
  const app = listing.find((l) => l.image.id === plain.id)!;
  t.deepEqual(app.tags, ['app:gzip', 'app:plain', 'mirror/app:1']);
  t.deepEqual(app.manifests.map((m) => m.digest).sort(), [plain, gzip, zstd].map((i) => i.manifestDescriptor.digest).sort());
  t.is(app.image.manifestDescriptor.digest, gzip.manifestDescriptor.digest, 'the manifest of its first name');
  t.deepEqual(await namesOf(store, plain.id), ['app:gzip', 'app:plain', 'mirror/app:1']);
  t.deepEqual(await namesOf(store, other.id), ['other:1']);
  t.deepEqual(await store.listImages(), listing);
});

test('an unnamed manifest of a named image is not a separate <none> image; unnamed ones group too', async (t) => {
  const { store, plain, gzip, zstd } = await setup(t);
  await store.recordUnnamed(plain);
  await store.recordUnnamed(gzip);
  let listing = await imagesById(store);
  t.is(listing.length, 1);
  t.deepEqual(listing[0]!.tags, []);
  await store.tag(zstd, 'app:1');
  listing = await imagesById(store);
  t.is(listing.length, 1);
  t.deepEqual(listing[0]!.tags, ['app:1']);
});

test('an image ID prefix finds the image whatever manifest its names use', async (t) => {
  const { store, plain, gzip } = await setup(t);
  await store.tag(plain, 'app:plain');
  await store.tag(gzip, 'app:gzip');
  const found = await store.resolveImage(plain.id.slice(7, 19));
  t.is(found.id, plain.id, 'one image, not an ambiguous prefix');
});
