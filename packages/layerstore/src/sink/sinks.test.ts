/**
 * Every file sink's output reads back through the local source of the same kind
 * (source/resolve.ts) as the same image: the same image ID and diff_ids, the names kept;
 * the rootfs sink writes the tree.
 */
import { join } from 'node:path';
import test from 'ava';
import { Store } from '../store/store.js';
import { hostPlatform } from '../image/platform.js';
import { importLocalImage } from '../source/resolve.js';
import { readTree, tempDir } from '../testing/fstree.js';
import { putLayers } from '../testing/image.js';
import { dir, file } from '../testing/tarbuild.js';
import { dockerArchiveSink } from './docker-archive.js';
import { ociArchiveSink } from './oci-archive.js';
import { ociLayoutSink } from './oci-layout.js';
import { rootfsSink } from './rootfs.js';
import type { ImageSink } from './sink.js';

const host = hostPlatform();
const CASES: Array<[string, (dest: string) => ImageSink, string]> = [
  ['oci-archive', (d) => ociArchiveSink(d, { names: ['app:1'], form: { compression: 'gzip' } }), 'oci-archive:'],
  ['oci-layout', (d) => ociLayoutSink(d, { names: ['app:1'] }), 'oci:'],
  ['docker-archive', (d) => dockerArchiveSink(d, { names: ['app:1'], form: { format: 'docker' } }), 'docker-archive:'],
];

for (const [kind, sink, transport] of CASES) {
  test(`${kind}: what the sink writes, the source reads back as the same image`, async (t) => {
    const tmp = await tempDir(t);
    const store = await Store.open(join(tmp, 'store'));
    const image = await putLayers(store, [[dir('etc'), file('etc/motd', 'hi')], [file('app', 'x')]], { architecture: host.architecture, os: host.os });
    const dest = join(tmp, `out-${kind}`);
    const written = await sink(dest).write(store, image);
    t.truthy(written);
    const other = await Store.open(join(tmp, 'other'));
    const back = await importLocalImage(other, `${transport}${dest}:app:1`, host);
    t.is(back?.id, image.id);
    t.deepEqual(back?.config.rootfs.diff_ids, image.config.rootfs.diff_ids);
    t.is(back?.manifestDescriptor.digest, written!.digest);
    await store.close();
    await other.close();
  });
}

test('rootfs: the sink writes the tree and no manifest', async (t) => {
  const tmp = await tempDir(t);
  const store = await Store.open(join(tmp, 'store'));
  const image = await putLayers(store, [[dir('etc'), file('etc/motd', 'hi')]]);
  t.is(await rootfsSink(join(tmp, 'root')).write(store, image), undefined);
  t.like(await readTree(join(tmp, 'root')), { 'etc/motd': { type: 'file' } });
  await store.close();
});
