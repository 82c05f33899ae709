/**
 * One test per image sink and the source that reads its kind (source/resolve.ts): the
 * sink writes a known image, the oracle (testing/validate-image.ts) validates what it
 * wrote, the source reads it back into another store, and the oracle's description of
 * that equals the description of what was written. The rootfs sink, which writes no
 * image, is checked against umoci's unpack of the same image.
 */
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { hostPlatform } from '../image/platform.js';
import { RegistryClient } from '../registry/client.js';
import { fileRegistry } from '../registry/testing/registry-server.js';
import { importLocalImage, resolveImage } from '../source/resolve.js';
import { Store, type StoredImage } from '../store/store.js';
import { readTree, run, tempDir } from '../testing/fstree.js';
import { putLayers } from '../testing/image.js';
import { dir, file, hardlink, symlink } from '../testing/tarbuild.js';
import { validateImage, type ImageDescription, type ImageLocation } from '../testing/validate-image.js';
import { dockerArchiveSink } from './docker-archive.js';
import { ociArchiveSink } from './oci-archive.js';
import { ociLayoutSink } from './oci-layout.js';
import { registrySink } from './registry.js';
import { rootfsSink } from './rootfs.js';
import type { ImageSink } from './sink.js';

const host = hostPlatform();
const NAMES = ['app:1', 'app:latest'];

const registry = fileRegistry(test);

/** Three layers (one a hardlink and a symlink over the first) and a history with an empty-layer step. */
async function original(t: ExecutionContext): Promise<{ tmp: string; store: Store; image: StoredImage; described: ImageDescription }> {
  const tmp = await tempDir(t);
  const store = await Store.open(join(tmp, 'store'));
  t.teardown(() => store.close());
  const image = await putLayers(store, [[dir('etc'), file('etc/motd', 'hi')], [file('app', 'x', { mode: 0o755 }), hardlink('app2', 'app')], [symlink('etc/alias', 'motd')]], {
    architecture: host.architecture,
    os: host.os,
    config: { Cmd: ['/app'] },
    history: [{ created_by: 'ADD etc' }, { created_by: 'ENV x=1', empty_layer: true }, { created_by: 'COPY app' }, { created_by: 'RUN ln -s' }],
  });
  return { tmp, store, image, described: await validateImage({ kind: 'store', store, image }) };
}

async function otherStore(t: ExecutionContext, tmp: string): Promise<Store> {
  const other = await Store.open(join(tmp, 'other'));
  t.teardown(() => other.close());
  return other;
}

interface Pair {
  sink: (dest: string) => ImageSink;
  /** Where the sink wrote, for the oracle. */
  written: (dest: string) => ImageLocation;
  /** The source of the same kind reads it back into `store`. */
  readBack: (store: Store, dest: string) => Promise<StoredImage | undefined>;
  /** What the sink's form makes of the original (an uncompressed OCI image). */
  form: Pick<ImageDescription, 'family' | 'compression'>;
}

const client = () => new RegistryClient({ retry: { baseDelayMs: 10 } });

const PAIRS: Record<string, Pair> = {
  'oci-archive': {
    sink: (d) => ociArchiveSink(d, { names: NAMES, form: { compression: 'gzip' } }),
    written: (d) => ({ kind: 'oci-archive', path: d, name: 'app:1' }),
    readBack: (store, d) => importLocalImage(store, `oci-archive:${d}:app:1`, host),
    form: { family: 'oci', compression: ['gzip', 'gzip', 'gzip'] },
  },
  'oci-layout': {
    sink: (d) => ociLayoutSink(d, { names: NAMES }),
    written: (d) => ({ kind: 'oci-layout', path: d, name: 'app:latest' }),
    readBack: (store, d) => importLocalImage(store, `oci:${d}:app:latest`, host),
    form: { family: 'oci', compression: ['none', 'none', 'none'] },
  },
  'docker-archive': {
    sink: (d) => dockerArchiveSink(d, { names: NAMES, form: { format: 'docker' } }),
    written: (d) => ({ kind: 'docker-archive', path: d, name: 'app:1' }),
    readBack: (store, d) => importLocalImage(store, `docker-archive:${d}:app:1`, host),
    form: { family: 'docker', compression: ['none', 'none', 'none'] },
  },
  registry: {
    sink: () => registrySink({ client, destinations: [`${registry.host}/pairs/app:1`], form: { compression: 'zstd' } }),
    written: () => ({ kind: 'registry', ref: `${registry.host}/pairs/app:1` }),
    readBack: async (store) => {
      const c = client();
      try {
        return (await resolveImage(`${registry.host}/pairs/app:1`, { store, registry: () => c, platform: host })).image;
      } finally {
        c.close();
      }
    },
    form: { family: 'oci', compression: ['zstd', 'zstd', 'zstd'] },
  },
};

for (const [kind, pair] of Object.entries(PAIRS)) {
  test(`${kind}: the sink writes a valid image of the same config and diff_ids, and its source reads back the image written`, async (t) => {
    const { tmp, store, image, described } = await original(t);
    const dest = join(tmp, `out-${kind}`);
    const descriptor = await pair.sink(dest).write(store, image);
    const written = await validateImage(pair.written(dest), kind === 'registry' ? {} : { names: NAMES });
    t.deepEqual(written, { ...described, ...pair.form, manifest: descriptor!.digest });
    const other = await otherStore(t, tmp);
    const back = await pair.readBack(other, dest);
    t.deepEqual(await validateImage({ kind: 'store', store: other, image: back! }), written);
  });
}

test('rootfs: the sink writes the tree umoci unpacks from the same image, and no manifest', async (t) => {
  const { tmp, store, image } = await original(t);
  t.is(await rootfsSink(join(tmp, 'root')).write(store, image), undefined);
  await ociLayoutSink(join(tmp, 'layout'), { names: ['app:1'] }).write(store, image);
  await run('umoci', ['unpack', '--image', `${join(tmp, 'layout')}:1`, join(tmp, 'bundle')]);
  const ours = await readTree(join(tmp, 'root'), { mtimes: true });
  const theirs = await readTree(join(tmp, 'bundle', 'rootfs'), { mtimes: true });
  delete ours[''];
  delete theirs[''];
  t.deepEqual(ours, theirs);
  t.like(ours, { 'etc/motd': { type: 'file' }, 'etc/alias': { type: 'symlink', link: 'motd' }, app: { links: ['app', 'app2'] } });
});
