/**
 * Exports read by the reference tools: `skopeo inspect` reads our OCI archive, layout
 * and docker-archive; `umoci unpack` of our OCI layout gives the tree writeRootfs gives
 * (hardlinks, whiteouts, opaque dirs, setuid); a corrupt blob fails the export and leaves no file.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { IntegrityError, LayerstoreError } from '../errors.js';
import { MediaType } from '../image/media-types.js';
import type { Index } from '../image/types.js';
import { Store } from '../store/store.js';
import { readTree, tempDir } from '../testing/fstree.js';
import { putLayers } from '../testing/image.js';
import { char, dir, file, hardlink, opaque, symlink, whiteout, type Piece } from '../testing/tarbuild.js';
import { imageAs } from './image-as.js';
import { writeDockerArchive } from './docker-archive.js';
import { writeOciArchive, writeOciLayout } from './oci.js';
import { writeRootfs } from './rootfs.js';

const run = promisify(execFile);
const inspect = async (ref: string) => JSON.parse((await run('skopeo', ['inspect', ref])).stdout) as Record<string, unknown>;

const LAYERS: Piece[][] = [
  [
    dir('etc'),
    file('etc/passwd', 'root:x:0:0'),
    file('etc/motd', 'hi'),
    dir('usr/lib'),
    symlink('lib', 'usr/lib'),
    dir('private', { mode: 0o700, uid: 1000, gid: 1000 }),
    file('private/secret', 's', { mode: 0o600, uid: 1000, gid: 1000 }),
    dir('docs'),
    file('docs/old', 'old'),
    char('dev-null', 1, 3),
  ],
  [
    whiteout('etc/motd'),
    file('bin/su', 'su', { mode: 0o4755 }),
    file('lib/libc.so', 'LIBC-BODY'),
    hardlink('usr/lib/libc.so.6', 'usr/lib/libc.so'),
    dir('tmp', { mode: 0o1777 }),
  ],
  [opaque('docs'), file('docs/new', 'new'), symlink('etc/alias', '/etc/passwd'), file('etc/passwd', 'root:x:0:0:new')],
];

async function setup(t: Parameters<typeof tempDir>[0]) {
  const base = await tempDir(t);
  const store = await Store.open(join(base, 'store'));
  const image = await putLayers(store, LAYERS, { config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] } });
  return { base, store, image };
}

test('skopeo reads writeOciArchive output', async (t) => {
  const { base, store, image } = await setup(t);
  const dest = join(base, 'image.tar');
  await writeOciArchive(store, dest, [{ image, names: ['app:1'] }]);
  const info = await inspect(`oci-archive:${dest}`);
  t.is(info.Digest, image.manifestDescriptor.digest);
  t.deepEqual(info.Layers, image.manifest.layers.map((l) => l.digest));
  t.is(info.Architecture, 'amd64');
  t.is(info.Os, 'linux');
  t.deepEqual(await readdir(base), ['image.tar', 'store'], 'no temp file left');
});

test('umoci unpack of writeOciLayout output gives the same tree as writeRootfs', async (t) => {
  const { base, store, image } = await setup(t);
  const layout = join(base, 'layout');
  await writeOciLayout(store, layout, [{ image, names: ['app:1'] }]);
  t.is((await inspect(`oci:${layout}:1`)).Digest, image.manifestDescriptor.digest);
  await run('umoci', ['unpack', '--image', `${layout}:1`, join(base, 'bundle')]);
  await writeRootfs(store, image, join(base, 'flat'));
  const ours = await readTree(join(base, 'flat'), { mtimes: true });
  const theirs = await readTree(join(base, 'bundle', 'rootfs'), { mtimes: true });
  delete ours[''];
  delete theirs[''];
  t.deepEqual(ours, theirs);
  t.false('etc/motd' in ours);
  t.deepEqual(Object.keys(ours).filter((k) => k.startsWith('docs/')), ['docs/new']);
  t.is(ours['bin/su']?.mode, 0o4755);
});

test('writeOciLayout adds to an existing layout and replaces an entry of the same name', async (t) => {
  const { base, store, image } = await setup(t);
  const other = await putLayers(store, LAYERS.slice(0, 1));
  const layout = join(base, 'layout');
  await writeOciLayout(store, layout, [{ image, names: ['app:1', 'app:latest'] }]);
  await writeOciLayout(store, layout, [{ image: other, names: ['app:1'] }]);
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as Index;
  const byName = Object.fromEntries(index.manifests.map((m) => [m.annotations?.['org.opencontainers.image.ref.name'], m.digest]));
  t.deepEqual(byName, { '1': other.manifestDescriptor.digest, latest: image.manifestDescriptor.digest });
  t.false((await readdir(join(layout, 'blobs/sha256'))).some((n) => n.startsWith('.')));
});

test('skopeo reads writeDockerArchive output', async (t) => {
  const { base, store, image } = await setup(t);
  const dest = join(base, 'docker.tar');
  await writeDockerArchive(store, dest, [{ image, names: ['app:1'] }]);
  const info = await inspect(`docker-archive:${dest}`);
  t.deepEqual(info.RepoTags, []);
  t.is((info.Layers as string[]).length, 3);
  const withName = await inspect(`docker-archive:${dest}:docker.io/library/app:1`);
  t.is(withName.Architecture, 'amd64');
});

for (const compression of ['gzip', 'zstd'] as const) {
  test(`imageAs to ${compression}: new layer blobs, same diff_ids and the same tree`, async (t) => {
    const { base, store, image } = await setup(t);
    const converted = await imageAs(store, image, { compression });
    t.deepEqual(converted.config.rootfs.diff_ids, image.config.rootfs.diff_ids);
    t.true(converted.manifest.layers.every((l) => l.mediaType === (compression === 'gzip' ? MediaType.ociLayerGzip : MediaType.ociLayerZstd)));
    t.deepEqual(await imageAs(store, image, { compression }), converted, 'the compressed blobs are remembered');
    const dest = join(base, 'image.tar');
    await writeOciArchive(store, dest, [{ image: converted, names: ['app:z'] }]);
    const info = await inspect(`oci-archive:${dest}`);
    t.deepEqual(info.Layers, converted.manifest.layers.map((l) => l.digest));
    await writeRootfs(store, image, join(base, 'plain'));
    await writeRootfs(store, converted, join(base, 'packed'));
    t.deepEqual(await readTree(join(base, 'packed'), { mtimes: true }), await readTree(join(base, 'plain'), { mtimes: true }));
    const back = await imageAs(store, converted, { compression: 'none' });
    t.deepEqual(back.manifest.layers.map((l) => l.digest), image.manifest.layers.map((l) => l.digest));
  });
}

test('a corrupt blob fails the export with IntegrityError and leaves no file', async (t) => {
  const { base, store, image } = await setup(t);
  // One byte of a file body: the tar still parses, only the digest shows the damage.
  const layer = store.blobs.path(image.manifest.layers[1]!.digest);
  const bytes = await readFile(layer);
  const at = bytes.indexOf('LIBC-BODY');
  bytes[at] = 0x6c;
  await chmod(layer, 0o644);
  await writeFile(layer, bytes);
  await t.throwsAsync(writeOciArchive(store, join(base, 'image.tar'), [{ image, names: [] }]), { instanceOf: IntegrityError });
  await t.throwsAsync(writeDockerArchive(store, join(base, 'docker.tar'), [{ image, names: [] }]), { instanceOf: IntegrityError });
  await t.throwsAsync(writeOciLayout(store, join(base, 'layout'), [{ image, names: [] }]), { instanceOf: IntegrityError });
  await t.throwsAsync(writeRootfs(store, image, join(base, 'flat')), { instanceOf: IntegrityError });
  t.deepEqual((await readdir(base)).sort(), ['flat', 'layout', 'store']);
  t.false((await readdir(join(base, 'layout/blobs/sha256'))).some((n) => n.startsWith('.')));
});

test('writeOciLayout into a directory whose index.json is not an index: a typed error naming it, not a TypeError', async (t) => {
  const { base, store, image } = await setup(t);
  for (const [i, bad] of ['{"manifests":[null]}', 'null', '{not json'].entries()) {
    const layout = join(base, `bad-${i}`);
    await mkdir(layout);
    await writeFile(join(layout, 'index.json'), bad);
    const err = await t.throwsAsync(writeOciLayout(store, layout, [{ image, names: ['app:1'] }]), { instanceOf: LayerstoreError });
    t.is(err?.code, 'TSBUILD_MANIFEST_INVALID', bad);
    t.true(err!.message.includes(join(layout, 'index.json')), err!.message);
  }
});
