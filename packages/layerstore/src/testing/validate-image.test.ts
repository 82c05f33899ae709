/**
 * The oracle fails what an OCI tool would refuse: each test writes a valid image with a
 * sink, breaks one thing in the files (re-pointing every digest above it, so that only
 * the one fault is left), and expects validateImage to name it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { sha256 } from '../digest.js';
import { MediaType } from '../image/media-types.js';
import type { ImageConfig, Index, Manifest } from '../image/types.js';
import { dockerArchiveSink } from '../sink/docker-archive.js';
import { ociLayoutSink } from '../sink/oci-layout.js';
import { Store } from '../store/store.js';
import { run, tempDir } from './fstree.js';
import { putLayers } from './image.js';
import { dir, file } from './tarbuild.js';
import { validateImage } from './validate-image.js';

async function layout(t: ExecutionContext, form: { compression?: 'gzip' } = {}): Promise<string> {
  const tmp = await tempDir(t);
  const store = await Store.open(join(tmp, 'store'));
  t.teardown(() => store.close());
  const image = await putLayers(store, [[dir('etc'), file('etc/a', 'a')], [file('etc/b', 'b')]], { history: [{ created_by: 'one' }, { created_by: 'two' }] });
  await ociLayoutSink(join(tmp, 'layout'), { names: ['app:1'], form }).write(store, image);
  return join(tmp, 'layout');
}

async function putBlob(layoutDir: string, doc: unknown): Promise<{ digest: `sha256:${string}`; size: number }> {
  const bytes = Buffer.from(JSON.stringify(doc));
  const digest = sha256(bytes);
  await writeFile(join(layoutDir, 'blobs/sha256', digest.slice(7)), bytes);
  return { digest, size: bytes.length };
}

/** Change the config and/or manifest of the layout's only image, re-pointing the descriptors above them. */
async function rewrite(layoutDir: string, change: { config?: (c: ImageConfig) => ImageConfig; manifest?: (m: Manifest) => Manifest }): Promise<void> {
  const read = async <T>(digest: string) => JSON.parse(await readFile(join(layoutDir, 'blobs/sha256', digest.slice(7)), 'utf8')) as T;
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as Index;
  let manifest = await read<Manifest>(index.manifests[0]!.digest);
  if (change.config) manifest = { ...manifest, config: { ...manifest.config, ...(await putBlob(layoutDir, change.config(await read<ImageConfig>(manifest.config.digest)))) } };
  if (change.manifest) manifest = change.manifest(manifest);
  const desc = await putBlob(layoutDir, manifest);
  await writeFile(join(layoutDir, 'index.json'), JSON.stringify({ ...index, manifests: index.manifests.map((m) => ({ ...m, ...desc })) }));
}

test('a valid layout passes, and a layer blob that is not what its descriptor says fails', async (t) => {
  const dir = await layout(t);
  const ok = await validateImage({ kind: 'oci-layout', path: dir }, { names: ['app:1'] });
  t.is(ok.diffIds.length, 2);
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as Index;
  const manifest = JSON.parse(await readFile(join(dir, 'blobs/sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as Manifest;
  await writeFile(join(dir, 'blobs/sha256', manifest.layers[1]!.digest.slice(7)), 'not the layer');
  await t.throwsAsync(validateImage({ kind: 'oci-layout', path: dir }, { tools: false }), { message: /layer 2: the blob is sha256:[0-9a-f]{64} \(13 bytes\), its descriptor says/ });
});

test('diff_ids out of order, or a history that does not count the layers, fail', async (t) => {
  const dir = await layout(t);
  await rewrite(dir, { config: (c) => ({ ...c, rootfs: { ...c.rootfs, diff_ids: [...c.rootfs.diff_ids].reverse() } }) });
  await t.throwsAsync(validateImage({ kind: 'oci-layout', path: dir }, { tools: false }), { message: /layer 1: uncompressed it is .*rootfs\.diff_ids\[0\] is/ });
  const other = await layout(t);
  await rewrite(other, { config: (c) => ({ ...c, history: [...c.history!, { created_by: 'three' }] }) });
  await t.throwsAsync(validateImage({ kind: 'oci-layout', path: other }, { tools: false }), { message: /history has 3 entries that made a layer, the manifest 2 layers/ });
});

test('a manifest mixing Docker and OCI media types fails; so does a layer type its bytes belie', async (t) => {
  const dir = await layout(t, { compression: 'gzip' });
  await rewrite(dir, { manifest: (m) => ({ ...m, layers: m.layers.map((l, i) => (i === 0 ? { ...l, mediaType: MediaType.dockerLayerGzip } : l)) }) });
  await t.throwsAsync(validateImage({ kind: 'oci-layout', path: dir }, { tools: false }), { message: /mixes media-type families: layer 1 media type application\/vnd\.docker/ });
  const zstd = await layout(t, { compression: 'gzip' });
  await rewrite(zstd, { manifest: (m) => ({ ...m, layers: m.layers.map((l) => ({ ...l, mediaType: MediaType.ociLayerZstd })) }) });
  await t.throwsAsync(validateImage({ kind: 'oci-layout', path: zstd }, { tools: false }), { message: /layer 1: not zstd as its media type says/ });
});

test('index names other than the writer was given, or a ref.name that is not the tag, fail', async (t) => {
  const dir = await layout(t);
  await t.throwsAsync(validateImage({ kind: 'oci-layout', path: dir }, { names: ['app:2'], tools: false }), { message: /index\.json names \["docker\.io\/library\/app:1"\], want \["app:2"\]/ });
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as Index;
  const entry = index.manifests[0]!;
  await writeFile(join(dir, 'index.json'), JSON.stringify({ ...index, manifests: [{ ...entry, annotations: { ...entry.annotations, 'org.opencontainers.image.ref.name': 'app:1' } }] }));
  await t.throwsAsync(validateImage({ kind: 'oci-layout', path: dir }, { tools: false }), { message: /ref\.name app:1, want the tag of docker\.io\/library\/app:1/ });
});

test('a docker-archive whose manifest.json disagrees with its OCI index fails, and skopeo says so too', async (t) => {
  const tmp = await tempDir(t);
  const store = await Store.open(join(tmp, 'store'));
  t.teardown(() => store.close());
  const image = await putLayers(store, [[file('a', 'a')], [file('b', 'b')]]);
  const archive = join(tmp, 'd.tar');
  await dockerArchiveSink(archive, { names: ['app:1'], form: { format: 'docker' } }).write(store, image);
  t.is((await validateImage({ kind: 'docker-archive', path: archive }, { names: ['app:1'] })).family, 'docker');
  const unpacked = join(tmp, 'unpacked');
  await run('mkdir', [unpacked]);
  await run('tar', ['-xf', archive, '-C', unpacked]);
  const entries = JSON.parse(await readFile(join(unpacked, 'manifest.json'), 'utf8')) as Array<{ Layers: string[] }>;
  entries[0]!.Layers = entries[0]!.Layers.slice(0, 1);
  await writeFile(join(unpacked, 'manifest.json'), JSON.stringify(entries));
  await run('tar', ['-cf', archive, '-C', unpacked, '.']);
  const err = await t.throwsAsync(validateImage({ kind: 'docker-archive', path: archive }, { names: ['app:1'] }));
  t.regex(err!.message, /manifest\.json Layers \["blobs\/sha256\/[0-9a-f]{64}"\], the OCI manifest has/);
  t.regex(err!.message, /skopeo inspect .*: 1 layers, want 2|skopeo inspect .* failed/);
});
