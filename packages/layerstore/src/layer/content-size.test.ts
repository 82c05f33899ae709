/** Layer sizes as docker shows them: file content, uncompressed; found once, then remembered. */
import test from 'ava';
import { mkdir, rm, symlink as mksymlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex } from '../digest.js';
import { tempDir } from '../testing/fstree.js';
import { putLayers } from '../testing/image.js';
import { char, dir, file, hardlink, symlink, whiteout } from '../testing/tarbuild.js';
import { Store } from '../store/store.js';
import { ensureSnapshots } from '../store/unpack.js';
import { commitLayer, layerAs } from './commit.js';
import { entryContentSize, imageContentSize, layerContentSize, layerContentSizes } from './content-size.js';

const RECORDS = 'layer-sizes';

test('what an entry counts: file length, symlink target length, nothing else', (t) => {
  t.is(entryContentSize({ type: 'file', size: 1234 }), 1234);
  t.is(entryContentSize({ type: 'symlink', size: 0, linkname: Buffer.from('/usr/lib') }), 8);
  for (const type of ['directory', 'link', 'char', 'block', 'fifo'] as const) t.is(entryContentSize({ type, size: 0, linkname: Buffer.from('x') }), 0, type);
});

test('a layer\'s size is its content, not its blob; empty layers are 0; the result is remembered', async (t) => {
  const store = await Store.open(join(await tempDir(t), 'store'));
  t.teardown(() => store.close());
  const image = await putLayers(store, [
    [dir('etc'), file('etc/passwd', 'root:x:0:0\n'), symlink('lib', 'usr/lib'), hardlink('etc/shadow', 'etc/passwd'), char('dev/null', 1, 3), whiteout('etc/motd')],
    [],
    [dir('app')],
  ]);
  const [first, empty, onlyDir] = image.manifest.layers;
  t.true(first!.size >= 3 * 512, 'the blob is tar headers and padding');
  t.deepEqual(await layerContentSizes(store, image), [11 + 7, 0, 0]);
  t.is(await imageContentSize(store, image), 18);
  t.true(empty!.size > 0 && onlyDir!.size > 0);

  // Remembered: the layer is not read again (even gone, its size is known).
  const diffId = image.config.rootfs.diff_ids[0]!;
  t.truthy(await store.readRecord(RECORDS, digestHex(first!.digest)));
  await rm(join(store.blobs.dir, digestHex(first!.digest)), { force: true });
  t.is(await layerContentSize(store, first!, diffId), 18);
});

test('a compressed layer is decompressed once to count it', async (t) => {
  const store = await Store.open(join(await tempDir(t), 'store'));
  t.teardown(() => store.close());
  const image = await putLayers(store, [[file('big', Buffer.alloc(100_000, 7)), file('small', 'abc')]]);
  const diffId = image.config.rootfs.diff_ids[0]!;
  const gz = await layerAs(store, image.manifest.layers[0]!, diffId, 'gzip');
  t.true(gz.size < 1000, 'compressed');
  t.is(await layerContentSize(store, gz, diffId), 100_003, 'the uncompressed twin\'s record serves it');
  await store.records(RECORDS).delete(digestHex(diffId));
  await rm(join(store.blobs.dir, digestHex(diffId)), { force: true }); // only the gzip blob is left
  t.is(await layerContentSize(store, gz, diffId), 100_003);
  const rec = await store.readRecord<{ digest: string; size: number }>(RECORDS, digestHex(gz.digest));
  t.deepEqual(rec, { digest: gz.digest, diffId, size: 100_003 });
});

test('a layer that cannot be read counts its descriptor size, so a listing still works', async (t) => {
  const store = await Store.open(join(await tempDir(t), 'store'));
  t.teardown(() => store.close());
  const image = await putLayers(store, [[file('a', 'aaaa')]]);
  const desc = image.manifest.layers[0]!;
  await store.records(RECORDS).delete(digestHex(desc.digest));
  await rm(join(store.blobs.dir, digestHex(desc.digest)), { force: true });
  t.is(await imageContentSize(store, image), desc.size);
});

test('commitLayer and unpacking record the size on the way', async (t) => {
  const work = await tempDir(t);
  const store = await Store.open(join(work, 'store'));
  t.teardown(() => store.close());
  const upper = join(work, 'upper');
  await mkdir(join(upper, 'd'), { recursive: true });
  await writeFile(join(upper, 'd', 'f'), 'hello');
  await mksymlink('d/f', join(upper, 'l'));
  const committed = await commitLayer(store, upper);
  t.deepEqual(await store.readRecord(RECORDS, digestHex(committed.diffId)), { digest: committed.diffId, diffId: committed.diffId, size: 5 + 3 });

  const image = await putLayers(store, [[file('x', 'xyz')]]);
  const diffId = image.config.rootfs.diff_ids[0]!;
  await store.records(RECORDS).delete(digestHex(image.manifest.layers[0]!.digest));
  await ensureSnapshots(store, image.manifest.layers, image.config.rootfs.diff_ids);
  t.deepEqual(await store.readRecord(RECORDS, digestHex(diffId)), { digest: diffId, diffId, size: 3 });
});
