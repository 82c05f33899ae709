/**
 * imageAs: one family of media types per manifest, the same blobs and config in every
 * form, an image already in the asked form left byte for byte; and the writers refuse a
 * mixed manifest instead of passing it on.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { LayerstoreError } from '../errors.js';
import { mixedMediaTypes } from '../image/form.js';
import { MediaType } from '../image/media-types.js';
import type { Manifest } from '../image/types.js';
import { Store, type StoredImage } from '../store/store.js';
import { tempDir } from '../testing/fstree.js';
import { putLayers } from '../testing/image.js';
import { dir, file } from '../testing/tarbuild.js';
import { writeDockerArchive } from './docker-archive.js';
import { imageAs } from './image-as.js';
import { writeOciArchive, writeOciLayout } from './oci.js';

const run = promisify(execFile);

async function setup(t: Parameters<typeof tempDir>[0]) {
  const base = await tempDir(t);
  const store = await Store.open(join(base, 'store'));
  const image = await putLayers(store, [[dir('etc'), file('etc/a', 'a')], [file('etc/b', 'b')]], { config: { Cmd: ['/bin/sh'] } });
  return { base, store, image };
}

/** What tsbuild before this change wrote for a build FROM a Docker-format base: an OCI manifest holding Docker layer types. */
async function mixed(store: Store, image: StoredImage): Promise<StoredImage> {
  const gz = await imageAs(store, image, { compression: 'gzip' });
  const manifest: Manifest = { ...gz.manifest, layers: gz.manifest.layers.map((l, i) => (i === 0 ? { ...l, mediaType: MediaType.dockerLayerGzip } : l)), annotations: { 'org.opencontainers.image.base.name': 'docker.io/library/busybox:latest' } };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const { digest, size } = await store.blobs.writeBytes(bytes);
  return { ...gz, manifest, manifestDescriptor: { mediaType: MediaType.ociManifest, digest, size } };
}

const blobs = (m: Manifest) => [m.config.digest, ...m.layers.map((l) => `${l.digest}/${l.size}`)];

test('a mixed manifest comes out in one family: OCI types for OCI, Docker types for Docker; same blobs, same image ID', async (t) => {
  const { store, image } = await setup(t);
  const old = await mixed(store, image);
  t.is(mixedMediaTypes(old.manifest), 'layer 1 media type application/vnd.docker.image.rootfs.diff.tar.gzip');

  const oci = await imageAs(store, old);
  t.is(mixedMediaTypes(oci.manifest), undefined);
  t.deepEqual(oci.manifest.layers.map((l) => l.mediaType), [MediaType.ociLayerGzip, MediaType.ociLayerGzip]);
  t.deepEqual(blobs(oci.manifest), blobs(old.manifest));
  t.is(oci.id, image.id);
  t.deepEqual(oci.manifest.annotations, old.manifest.annotations);

  const docker = await imageAs(store, old, { format: 'docker' });
  t.is(docker.manifestDescriptor.mediaType, MediaType.dockerManifest);
  t.is(docker.manifest.config.mediaType, MediaType.dockerConfig);
  t.deepEqual(docker.manifest.layers.map((l) => l.mediaType), [MediaType.dockerLayerGzip, MediaType.dockerLayerGzip]);
  t.is(docker.manifest.annotations, undefined, 'Docker manifests have no annotations');
  t.deepEqual(blobs(docker.manifest), blobs(old.manifest));
  t.is(docker.id, image.id);
  t.deepEqual(await store.blobs.readJson(docker.manifestDescriptor), docker.manifest, 'the manifest written is the one returned');

  const back = await imageAs(store, docker, { format: 'oci', compression: 'none' });
  t.deepEqual(back.manifest.layers.map((l) => [l.mediaType, l.digest]), image.manifest.layers.map((l) => [MediaType.ociLayer, l.digest]));
});

test('an image already in the asked form is returned as it is (a pulled manifest keeps its bytes and digest)', async (t) => {
  const { store, image } = await setup(t);
  const docker = await imageAs(store, image, { format: 'docker', compression: 'gzip' });
  // Docker's own key order and spacing, as a registry would serve it.
  const text = `{\n   "schemaVersion": 2,\n   "mediaType": "${MediaType.dockerManifest}",\n   "config": ${JSON.stringify(docker.manifest.config)},\n   "layers": ${JSON.stringify(docker.manifest.layers)}\n}`;
  const { digest, size } = await store.blobs.writeBytes(Buffer.from(text));
  const pulled: StoredImage = { ...docker, manifestDescriptor: { mediaType: MediaType.dockerManifest, digest, size }, manifest: JSON.parse(text) as Manifest };
  t.is(await imageAs(store, pulled), pulled);
  t.is(await imageAs(store, pulled, { format: 'docker', compression: 'gzip' }), pulled);
  t.not((await imageAs(store, pulled, { format: 'oci' })).manifestDescriptor.digest, digest);
});

test('zstd layers have no Docker media type: a typed error, not a mixed manifest', async (t) => {
  const { store, image } = await setup(t);
  const err = await t.throwsAsync(imageAs(store, image, { format: 'docker', compression: 'zstd' }), { instanceOf: LayerstoreError });
  t.is(err?.code, 'TSBUILD_UNSUPPORTED');
  t.regex(err!.message, /use OCI media types/);
});

test('the store writes only unmixed manifests: putImage maps Docker layer types of a base to OCI ones', async (t) => {
  const { store, image } = await setup(t);
  const old = await mixed(store, image);
  const built = await store.putImage(old.config, old.manifest.layers);
  t.deepEqual(built.manifest.layers.map((l) => l.mediaType), [MediaType.ociLayerGzip, MediaType.ociLayerGzip]);
  await t.throwsAsync(store.putManifest(old.manifest), { instanceOf: LayerstoreError, message: /refusing to write .* with layer 1 media type/ });
});

test('the writers refuse a mixed manifest, and umoci and skopeo accept what imageAs gives them', async (t) => {
  const { base, store, image } = await setup(t);
  const old = await mixed(store, image);
  const items = [{ image: old, names: ['app:1'] }];
  for (const write of [() => writeOciArchive(store, join(base, 'a.tar'), items), () => writeOciLayout(store, join(base, 'l'), items), () => writeDockerArchive(store, join(base, 'd.tar'), items)]) {
    await t.throwsAsync(write(), { instanceOf: LayerstoreError, message: /mixes media types/ });
  }
  const fixed = [{ image: await imageAs(store, old), names: ['app:1'] }];
  await writeOciLayout(store, join(base, 'layout'), fixed);
  await run('umoci', ['unpack', '--image', `${join(base, 'layout')}:1`, join(base, 'bundle')]);
  await writeDockerArchive(store, join(base, 'd.tar'), [{ image: await imageAs(store, old, { format: 'docker' }), names: ['app:1'] }]);
  const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', `docker-archive:${join(base, 'd.tar')}`])).stdout) as Manifest;
  t.is(raw.mediaType, MediaType.dockerManifest);
  t.true(raw.layers.every((l) => l.mediaType === MediaType.dockerLayerGzip));
});
