/**
 * docker-archive import, from archives built here in the shapes real tools write:
 * docker before 25 (`<v1 id>/layer.tar`), containers/image (`<diff id>.tar` plus
 * `<v1 id>/layer.tar` symlinks; skopeo, podman, buildah) and docker 25+ (an OCI layout
 * beside manifest.json). Every failure leaves the store exactly as it was.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import test, { type ExecutionContext } from 'ava';
import { sha256, type Digest } from '../digest.js';
import { IntegrityError, LayerstoreError, TarError } from '../errors.js';
import { writeDockerArchive } from '../export/docker-archive.js';
import { writeOciArchive } from '../export/oci.js';
import { writeRootfs } from '../export/rootfs.js';
import { MediaType, type Compression } from '../image/media-types.js';
import type { Manifest } from '../image/types.js';
import { compressor } from '../layer/compress.js';
import { Store } from '../store/store.js';
import { readTree, tempDir } from '../testing/fstree.js';
import { config, putLayers } from '../testing/image.js';
import { chunks, dir, file, symlink, tarBytes, whiteout, type Piece } from '../testing/tarbuild.js';
import { importDockerArchive } from './docker-archive.js';
import { loadArchive } from './load.js';

const PLATFORM = { os: 'linux', architecture: 'amd64' };

const LAYERS: Piece[][] = [
  [dir('etc'), file('etc/os-release', 'ID=test\n'), dir('bin'), file('bin/tool', 'v1', { mode: 0o755 })],
  [file('bin/tool', 'v2', { mode: 0o755 }), whiteout('etc/os-release'), file('etc/motd', 'hello\n')],
];

type Style = 'docker' | 'containers-image' | 'docker25';

interface ArchiveSpec {
  style: Style;
  layers?: Piece[][];
  compress?: Compression[];
  tags?: string[] | null;
  /** Replace the config's diff_ids (to make them wrong). */
  diffIds?: Digest[];
  /** Extra bytes in the config (to pass the cap). */
  configPad?: number;
  /** Drop this layer file from the archive. */
  dropLayer?: number;
  /** Reference layers through their `<v1 id>/layer.tar` symlinks (containers-image). */
  viaSymlinks?: boolean;
  extra?: Piece[];
}

interface Built {
  bytes: Buffer;
  configDigest: Digest;
  diffIds: Digest[];
  layerDigests: Digest[];
  /** docker25: the OCI manifest the archive carries. */
  manifestDigest?: Digest;
}

async function pack(bytes: Buffer, c: Compression): Promise<Buffer> {
  if (c === 'none') return bytes;
  if (c === 'gzip') return gzipSync(bytes);
  return buffer(Readable.from([bytes]).pipe(compressor('zstd')));
}

async function makeArchive(spec: ArchiveSpec): Promise<Built> {
  const layers = spec.layers ?? LAYERS;
  const plain = layers.map((l) => tarBytes(l));
  const blobs = await Promise.all(plain.map((b, i) => pack(b, spec.compress?.[i] ?? 'none')));
  const diffIds = spec.diffIds ?? plain.map((b) => sha256(b));
  const layerDigests = blobs.map((b) => sha256(b));
  const cfg = config(diffIds, { created: '2024-01-01T00:00:00Z', config: { Cmd: ['/bin/tool'] }, ...(spec.configPad ? { author: 'x'.repeat(spec.configPad) } : {}) });
  const cfgBytes = Buffer.from(JSON.stringify(cfg));
  const configDigest = sha256(cfgBytes);
  const hex = (d: Digest) => d.slice(7);
  const pieces: Piece[] = [];
  const layerNames: string[] = [];
  let manifestDigest: Digest | undefined;
  const v1 = (i: number) => hex(sha256(`v1 ${i}`));
  if (spec.style === 'docker') {
    blobs.forEach((b, i) => {
      pieces.push(dir(v1(i)), file(`${v1(i)}/VERSION`, '1.0'), file(`${v1(i)}/json`, '{}'));
      if (i !== spec.dropLayer) pieces.push(file(`${v1(i)}/layer.tar`, b));
      layerNames.push(`${v1(i)}/layer.tar`);
    });
    pieces.push(file(`${hex(configDigest)}.json`, cfgBytes));
  } else if (spec.style === 'containers-image') {
    blobs.forEach((b, i) => {
      if (i !== spec.dropLayer) pieces.push(file(`${hex(diffIds[i]!)}.tar`, b));
    });
    pieces.push(file(`${hex(configDigest)}.json`, cfgBytes));
    blobs.forEach((_b, i) => {
      pieces.push(symlink(`${v1(i)}/layer.tar`, `../${hex(diffIds[i]!)}.tar`), file(`${v1(i)}/VERSION`, '1.0'));
      layerNames.push(spec.viaSymlinks ? `${v1(i)}/layer.tar` : `${hex(diffIds[i]!)}.tar`);
    });
  } else {
    const mediaTypes = blobs.map((_b, i) => ({ none: MediaType.ociLayer, gzip: MediaType.ociLayerGzip, zstd: MediaType.ociLayerZstd })[spec.compress?.[i] ?? 'none']);
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configDigest, size: cfgBytes.length },
      layers: blobs.map((b, i) => ({ mediaType: mediaTypes[i]!, digest: layerDigests[i]!, size: b.length })),
    };
    const mBytes = Buffer.from(JSON.stringify(manifest, null, 2));
    manifestDigest = sha256(mBytes);
    const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociManifest, digest: manifestDigest, size: mBytes.length, annotations: { 'io.containerd.image.name': 'docker.io/library/app:1', 'org.opencontainers.image.ref.name': '1' } }] };
    const indexBytes = Buffer.from(JSON.stringify(index));
    const indexDigest = sha256(indexBytes);
    const top = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociIndex, digest: indexDigest, size: indexBytes.length }] };
    pieces.push(dir('blobs'), dir('blobs/sha256'));
    blobs.forEach((b, i) => {
      if (i !== spec.dropLayer) pieces.push(file(`blobs/sha256/${hex(layerDigests[i]!)}`, b));
      layerNames.push(`blobs/sha256/${hex(layerDigests[i]!)}`);
    });
    pieces.push(file(`blobs/sha256/${hex(configDigest)}`, cfgBytes), file(`blobs/sha256/${hex(manifestDigest)}`, mBytes), file(`blobs/sha256/${hex(indexDigest)}`, indexBytes));
    pieces.push(file('index.json', JSON.stringify(top)), file('oci-layout', '{"imageLayoutVersion":"1.0.0"}'));
  }
  const cfgName = spec.style === 'docker25' ? `blobs/sha256/${hex(configDigest)}` : `${hex(configDigest)}.json`;
  const tags = spec.tags === undefined ? ['app:1'] : spec.tags;
  pieces.push(...(spec.extra ?? []));
  pieces.push(file('manifest.json', JSON.stringify([{ Config: cfgName, RepoTags: tags, Layers: layerNames }])));
  pieces.push(file('repositories', '{}'));
  return { bytes: tarBytes(pieces), configDigest, diffIds, layerDigests, ...(manifestDigest ? { manifestDigest } : {}) };
}

/** A pipe-like stream (small chunks, no file behind it). */
const stream = (bytes: Buffer) => Readable.from(chunks(bytes, 3000));

async function open(t: ExecutionContext, root: string): Promise<Store> {
  const store = await Store.open(root);
  t.teardown(() => store.close());
  return store;
}

async function setup(t: ExecutionContext): Promise<{ base: string; store: Store }> {
  const base = await tempDir(t);
  return { base, store: await open(t, join(base, 'store')) };
}

/** Everything an import could change: blob names, the index, ingest leftovers. */
async function state(store: Store): Promise<{ blobs: string[]; index: string; ingest: string[] }> {
  return {
    blobs: (await readdir(store.blobs.dir)).sort(),
    index: await readFile(store.tags.path, 'utf8'),
    ingest: await readdir(store.blobs.ingestDir),
  };
}

/** A store that already holds a tagged image, so "nothing changed" is checked against something. */
async function populated(t: ExecutionContext): Promise<{ base: string; store: Store }> {
  const s = await setup(t);
  const image = await putLayers(s.store, [[file('keep', 'me')]]);
  await s.store.tag(image, 'app:1');
  return s;
}

const opts = { where: 'test archive', platform: PLATFORM };

test('docker save layout (<v1 id>/layer.tar): config kept as the image ID, layers as uncompressed OCI layers, tags from RepoTags', async (t) => {
  const { base, store } = await setup(t);
  const a = await makeArchive({ style: 'docker', tags: ['app:1', 'docker.io/library/app:latest'], extra: [file('junk.bin', 'not referenced')] });
  const res = await importDockerArchive(store, stream(a.bytes), opts);
  t.is(res.format, 'docker-archive');
  t.is(res.images.length, 1);
  const { image, names } = res.images[0]!;
  t.deepEqual(names, ['app:1', 'app:latest']);
  t.is(image.id, a.configDigest);
  t.is(image.manifest.config.digest, a.configDigest);
  t.deepEqual(image.manifest.layers.map((l) => [l.mediaType, l.digest]), a.diffIds.map((d) => [MediaType.ociLayer, d]));
  t.is((await store.resolveImage('app:latest')).id, a.configDigest);
  t.is((await store.resolveImage('app:1')).manifestDescriptor.digest, image.manifestDescriptor.digest);
  // config + 2 layers + the new manifest; junk.bin is gone.
  t.deepEqual((await state(store)).blobs.sort(), [a.configDigest, ...a.diffIds, image.manifestDescriptor.digest].map((d) => d.slice(7)).sort());
  await writeRootfs(store, image, join(base, 'rootfs'));
  const tree = await readTree(join(base, 'rootfs'));
  t.deepEqual(Object.keys(tree).sort(), ['', 'bin', 'bin/tool', 'etc', 'etc/motd']);
  // Loading the same archive again changes nothing and gives the same manifest.
  const again = await importDockerArchive(store, stream(a.bytes), opts);
  t.is(again.images[0]!.image.manifestDescriptor.digest, image.manifestDescriptor.digest);
});

for (const viaSymlinks of [false, true]) {
  test(`containers-image layout (<diff id>.tar${viaSymlinks ? ', named through <v1 id>/layer.tar symlinks' : ''}) with gzip and zstd layers: media types from content`, async (t) => {
    const { base, store } = await setup(t);
    const a = await makeArchive({ style: 'containers-image', compress: ['gzip', 'zstd'], viaSymlinks, tags: null });
    const res = await importDockerArchive(store, stream(a.bytes), opts);
    const { image, names } = res.images[0]!;
    t.deepEqual(names, []);
    t.deepEqual(await store.tags.list(), [], 'no RepoTags, no tags');
    t.deepEqual(image.manifest.layers.map((l) => l.mediaType), [MediaType.ociLayerGzip, MediaType.ociLayerZstd]);
    t.deepEqual(image.manifest.layers.map((l) => l.digest), a.layerDigests);
    t.deepEqual(image.config.rootfs.diff_ids, a.diffIds);
    await writeRootfs(store, image, join(base, 'rootfs'));
    t.is(await readFile(join(base, 'rootfs/bin/tool'), 'utf8'), 'v2');
  });
}

test('docker 25+ layout (OCI layout inside): the archive\'s own manifest is kept byte for byte, its index is not kept', async (t) => {
  const { store } = await setup(t);
  const a = await makeArchive({ style: 'docker25', compress: ['gzip', 'none'] });
  const res = await importDockerArchive(store, stream(a.bytes), opts);
  const { image, names } = res.images[0]!;
  t.deepEqual(names, ['app:1']);
  t.is(image.manifestDescriptor.digest, a.manifestDigest!);
  t.deepEqual(image.manifest.layers.map((l) => l.digest), a.layerDigests);
  t.deepEqual((await state(store)).blobs.sort(), [a.configDigest, ...a.layerDigests, a.manifestDigest!].map((d) => d.slice(7)).sort());
});

test('a whole archive compressed with gzip or zstd is read through (loadArchive)', async (t) => {
  const { store } = await setup(t);
  const a = await makeArchive({ style: 'docker' });
  for (const c of ['gzip', 'zstd'] as const) {
    const res = await loadArchive(store, stream(await pack(a.bytes, c)), opts);
    t.is(res.format, 'docker-archive');
    t.is(res.images[0]!.image.id, a.configDigest);
  }
});

test('a layer whose content does not match its diff_id is rejected naming the digests, and nothing stays', async (t) => {
  const { store } = await populated(t);
  const before = await state(store);
  for (const compress of [['none', 'none'], ['gzip', 'zstd']] as Compression[][]) {
    const good = await makeArchive({ style: 'docker', compress });
    const wrong = sha256('something else');
    const a = await makeArchive({ style: 'docker', compress, diffIds: [good.diffIds[0]!, wrong], tags: ['app:1', 'other:2'] });
    const err = await t.throwsAsync(importDockerArchive(store, stream(a.bytes), opts), { instanceOf: IntegrityError });
    t.is(err?.code, 'TSBUILD_DIGEST_MISMATCH');
    t.true(err!.message.includes(a.layerDigests[1]!), err!.message);
    t.true(err!.message.includes(wrong), err!.message);
    t.deepEqual(await state(store), before);
  }
});

test('a truncated archive fails with a tar error and leaves nothing', async (t) => {
  const { store } = await populated(t);
  const before = await state(store);
  const a = await makeArchive({ style: 'docker' });
  // Cut inside the second layer's body.
  const cut = a.bytes.indexOf(Buffer.from('hello\n')) - 100;
  const err = await t.throwsAsync(importDockerArchive(store, stream(a.bytes.subarray(0, cut)), opts), { instanceOf: TarError });
  t.regex(err!.message, /^test archive: .*unexpected EOF/);
  t.deepEqual(await state(store), before);
});

test('a config over the 4 MiB cap is refused and leaves nothing', async (t) => {
  const { store } = await populated(t);
  const before = await state(store);
  const a = await makeArchive({ style: 'docker', configPad: 4 * 1024 * 1024 });
  const err = await t.throwsAsync(importDockerArchive(store, stream(a.bytes), opts), { instanceOf: LayerstoreError });
  t.is(err?.code, 'TSBUILD_MANIFEST_INVALID');
  t.regex(err!.message, /config .* more than the 4194304 allowed/);
  t.deepEqual(await state(store), before);
});

for (const style of ['docker', 'containers-image', 'docker25'] as const) {
  test(`${style}: manifest.json naming a layer the archive lacks fails naming it, and leaves nothing`, async (t) => {
    const { store } = await populated(t);
    const before = await state(store);
    const a = await makeArchive({ style, dropLayer: 1 });
    const err = await t.throwsAsync(importDockerArchive(store, stream(a.bytes), opts), { instanceOf: LayerstoreError });
    t.is(err?.code, 'TSBUILD_MANIFEST_INVALID');
    t.regex(err!.message, /layer ".*" is not in the archive/);
    t.deepEqual(await state(store), before);
  });
}

test('bad manifest.json, bad RepoTags, no manifest.json: refused, nothing left', async (t) => {
  const { store } = await populated(t);
  const before = await state(store);
  const cases: Array<[Piece[], RegExp]> = [
    [[file('manifest.json', '{"not": "a list"}')], /manifest\.json is not a list of images/],
    [[file('manifest.json', 'nope')], /manifest\.json is not valid JSON/],
    [[file('x.tar', 'data'), file('oci-layout', '{}')], /no manifest\.json: not a docker-archive/],
  ];
  for (const [pieces, re] of cases) {
    await t.throwsAsync(importDockerArchive(store, stream(tarBytes(pieces)), opts), { message: re });
  }
  const a = await makeArchive({ style: 'docker', tags: ['Not A Name'] });
  await t.throwsAsync(importDockerArchive(store, stream(a.bytes), opts), { code: 'TSBUILD_REFERENCE_INVALID' } as never);
  t.deepEqual(await state(store), before);
});

test('pick one image without tagging (FROM docker-archive:FILE:NAME): only its blobs stay', async (t) => {
  const { base, store } = await setup(t);
  const source = await open(t, join(base, 'source'));
  const one = await putLayers(source, [LAYERS[0]!]);
  const two = await putLayers(source, [[file('other', 'x')]]);
  const archive = join(base, 'two.tar');
  await writeDockerArchive(source, archive, [{ image: one, names: ['one:1'] }, { image: two, names: ['two:1'] }]);
  const bytes = await readFile(archive);
  const res = await importDockerArchive(store, stream(bytes), { ...opts, tag: false, pick: { name: 'docker.io/library/two:1' } });
  t.is(res.images.length, 1);
  t.is(res.images[0]!.image.id, two.id);
  t.deepEqual(await store.tags.list(), []);
  t.deepEqual((await state(store)).blobs.sort(), [two.id, two.manifest.layers[0]!.digest, res.images[0]!.image.manifestDescriptor.digest].map((d) => d.slice(7)).sort());
  await t.throwsAsync(importDockerArchive(store, stream(bytes), { ...opts, tag: false, pick: {} }), { message: /holds 2 images; name one \(one:1, two:1\)/ });
  await t.throwsAsync(importDockerArchive(store, stream(bytes), { ...opts, tag: false, pick: { name: 'three' } }), { message: /no image named "three"/ });
  t.is((await importDockerArchive(store, stream(bytes), { ...opts, tag: false, pick: { name: '@0' } })).images[0]!.image.id, one.id);
});

test('loadArchive tells an OCI archive from a docker-archive and loads every image with its names', async (t) => {
  const { base, store } = await setup(t);
  const source = await open(t, join(base, 'source'));
  const one = await putLayers(source, [LAYERS[0]!]);
  const two = await putLayers(source, LAYERS);
  const oci = join(base, 'oci.tar');
  await writeOciArchive(source, oci, [{ image: one, names: ['one:1', 'localhost:5000/one:2'] }, { image: two, names: [] }]);
  const res = await loadArchive(store, stream(await readFile(oci)), opts);
  t.is(res.format, 'oci-archive');
  t.deepEqual(res.images.map((i) => [i.image.manifestDescriptor.digest, i.names]), [
    [one.manifestDescriptor.digest, ['one:1', 'localhost:5000/one:2']],
    [two.manifestDescriptor.digest, []],
  ]);
  t.deepEqual((await store.tags.list()).map((x) => x.name).sort(), ['localhost:5000/one:2', 'one:1']);
  await t.throwsAsync(loadArchive(store, stream(tarBytes([file('hello', 'x')])), opts), { message: /neither a docker-archive nor an OCI archive/ });
});

test('an OCI archive blob that does not match its name is rejected and nothing stays', async (t) => {
  const { base, store } = await populated(t);
  const before = await state(store);
  const source = await open(t, join(base, 'source'));
  const image = await putLayers(source, LAYERS, { author: 'someone' });
  const oci = join(base, 'oci.tar');
  await writeOciArchive(source, oci, [{ image, names: ['app:1'] }]);
  const bytes = await readFile(oci);
  bytes[bytes.indexOf(Buffer.from('hello\n'))] ^= 1;
  const err = await t.throwsAsync(loadArchive(store, stream(bytes), opts), { instanceOf: IntegrityError });
  t.true(err!.message.includes(image.manifest.layers[1]!.digest), err!.message);
  t.deepEqual(await state(store), before);
});
