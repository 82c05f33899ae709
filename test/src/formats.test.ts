/**
 * Images in and out: each way out of the CLI (save to an OCI archive, a docker-archive,
 * an OCI layout) writes what the layerstore oracle (validateImage) accepts, keeping the
 * manifest where the format carries it, the config (image ID) and the diff_ids, and the
 * way back in (load, FROM, run) reads the same image; archives written by skopeo
 * (containers/image, as podman and buildah write them) and by `docker save` (recorded in
 * fixtures/archives) load back unchanged; umoci's unpack of our OCI export equals our own
 * `-o type=local`.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import test, { type ExecutionContext } from 'ava';
import { validateImage, type ImageDescription } from '@tsbuild/layerstore/testing';
import { busyboxStore } from './helpers/busybox.js';
import { run, tsbuild, type CliResult } from './helpers/cli.js';
import { FIXTURES, removeDir, tempDir, type Teardown } from './helpers/fixtures.js';
import { describeStored } from './helpers/images.js';
import { storeFingerprint } from './helpers/store.js';
import { treeOf } from './helpers/tree.js';

interface Facts {
  id: string;
  diffIds: string[];
  manifest: string;
  tags: string[];
}

async function facts(root: string, ref: string): Promise<Facts> {
  const res = await tsbuild(['inspect', ref], { root });
  if (res.code !== 0) throw new Error(`inspect ${ref}: ${res.stderr}`);
  const [img] = JSON.parse(res.stdout) as Array<{ Id: string; RepoTags: string[]; RootFS: { Layers: string[] }; Descriptor: { digest: string } }>;
  return { id: img!.Id, diffIds: img!.RootFS.Layers, manifest: img!.Descriptor.digest, tags: img!.RepoTags };
}

/**
 * What a docker-archive keeps of a manifest: the config and layer blobs. Not the
 * media-type family (a docker-archive's manifest uses Docker types) nor the annotations
 * (base image name and digest), which Docker manifests have no place for.
 */
async function manifestBody(root: string, digest: string): Promise<unknown> {
  const m = JSON.parse(await readFile(join(root, 'blobs/sha256', digest.slice(7)), 'utf8')) as { config: { digest: string; size: number }; layers: Array<{ digest: string; size: number }> };
  const blob = (d: { digest: string; size: number }) => ({ digest: d.digest, size: d.size });
  return { config: blob(m.config), layers: m.layers.map(blob) };
}

async function sameImageViaDocker(t: ExecutionContext, root: string, ref: string, wantRoot: string, want: Facts, label?: string): Promise<void> {
  const got = await facts(root, ref);
  t.is(got.id, want.id, label);
  t.deepEqual(got.diffIds, want.diffIds, label);
  t.deepEqual(await manifestBody(root, got.manifest), await manifestBody(wantRoot, want.manifest), label);
}

async function ok(p: Promise<CliResult>, what: string): Promise<CliResult> {
  const res = await p;
  if (res.code !== 0) throw new Error(`${what} exited ${res.code}: ${res.stderr}`);
  return res;
}

const withoutLeases = (fp: string[]) => fp.filter((l) => !l.startsWith('leases'));

const DOCKERFILE = `FROM busybox
RUN mkdir -p /data/sub && echo one > /data/one && echo two > /data/two && ln /data/one /data/hard && ln -s one /data/sym && chmod 4755 /data/one
RUN rm /data/two && echo three > /data/sub/three && chmod 0600 /data/sub/three
LABEL org.example=formats
CMD ["cat", "/data/one"]
`;

/**
 * A store holding app:1 (busybox plus two RUN layers with a hardlink, a symlink, setuid
 * and a whiteout), exported by the same build to `outputs` (there is no build cache:
 * another build would be another image).
 */
async function appStore(work: string, outputs: string[] = [], t?: Teardown): Promise<string> {
  const root = await busyboxStore(t);
  await writeFile(join(work, 'Dockerfile'), DOCKERFILE);
  await ok(tsbuild(['build', '-q', '-t', 'app:1', ...outputs.flatMap((o) => ['-o', o]), work], { root }), 'build app:1');
  return root;
}

/** app:1 built once for the tests of one sink and its source each; they only read its store. */
let built: Promise<{ work: string; root: string; want: Facts; described: ImageDescription }> | undefined;
function builtApp(): NonNullable<typeof built> {
  built ??= (async () => {
    const work = await tempDir('formats-app');
    const root = await appStore(work);
    return { work, root, want: await facts(root, 'app:1'), described: await describeStored(root, 'app:1') };
  })();
  return built;
}

test.after.always(async () => {
  if (!built) return;
  const { work, root } = await built;
  await removeDir(work);
  await removeDir(join(root, '..'));
});

test('save --format oci writes a valid OCI archive of the stored manifest; load reads back the same image', async (t) => {
  const { root, want, described } = await builtApp();
  const work = await tempDir('formats-oci', t);
  t.is(want.diffIds.length, 5, 'busybox (3 layers) + 2 RUN layers');
  await ok(tsbuild(['save', '--format', 'oci', 'app:1', '-o', join(work, 'app.oci.tar')], { root }), 'save --format oci');
  t.deepEqual(await validateImage({ kind: 'oci-archive', path: join(work, 'app.oci.tar'), name: 'app:1' }, { names: ['app:1'] }), described);
  const loaded = await ok(tsbuild(['load', '-i', join(work, 'app.oci.tar')], { root: join(work, 's1') }), 'load oci');
  t.is(loaded.stdout, 'Loaded image: app:1\n');
  t.deepEqual(await facts(join(work, 's1'), 'app:1'), want);
  t.deepEqual(await describeStored(join(work, 's1'), 'app:1'), described);
});

test('save to stdout writes a valid docker-archive of the same config; load from stdin, FROM, run and save read it back', async (t) => {
  const { root, want, described } = await builtApp();
  const work = await tempDir('formats-docker-archive', t);
  const archive = join(work, 'app.docker.tar');
  await ok(tsbuild(['save', 'app:1'], { root, stdoutFile: archive }), 'save to stdout');
  const written = await validateImage({ kind: 'docker-archive', path: archive, name: 'app:1' }, { names: ['app:1'] });
  t.like(written, { family: 'docker', config: want.id, diffIds: want.diffIds, platform: described.platform });
  t.deepEqual(written.compression, ['none', 'none', 'none', 'none', 'none'], 'uncompressed layers, like docker save');
  const loaded = await ok(tsbuild(['load'], { root: join(work, 's2'), stdin: { file: archive } }), 'load from stdin');
  t.is(loaded.stdout, 'Loaded image: app:1\n');
  t.deepEqual(await describeStored(join(work, 's2'), 'app:1'), written);
  await sameImageViaDocker(t, join(work, 's2'), 'app:1', root, want);

  // docker-archive as a source of FROM, tsbuild run and save: the same image.
  const ctx = join(work, 'ctx');
  await run('mkdir', ['-p', ctx]);
  await writeFile(join(ctx, 'Dockerfile'), `FROM docker-archive:${archive}:app:1\nRUN test ! -e /data/two && test -u /data/one\n`);
  await ok(tsbuild(['build', '-q', '-t', 'from-docker:1', ctx], { root: join(work, 's3') }), 'build FROM docker-archive');
  t.deepEqual((await facts(join(work, 's3'), 'from-docker:1')).diffIds.slice(0, 5), want.diffIds);
  const ran = await tsbuild(['run', `docker-archive:${archive}`], { root: join(work, 's4') });
  t.is(ran.stdout, 'one\n', ran.stderr);
  await ok(tsbuild(['save', '--format', 'oci', `docker-archive:${archive}`, '-o', join(work, 'again.oci.tar')], { root: join(work, 's5') }), 'save docker-archive:');
  const again = await ok(tsbuild(['load', '-i', join(work, 'again.oci.tar')], { root: join(work, 's6') }), 'load again');
  t.is(again.stdout, `Loaded image ID: ${want.id}\n`, 'an image saved by a reference that is not a tag carries no name');
});

test('save --format oci-dir writes a valid OCI layout of the stored manifest; FROM oci-layout:// builds on it', async (t) => {
  const { root, want, described } = await builtApp();
  const work = await tempDir('formats-oci-dir', t);
  await ok(tsbuild(['save', '--format', 'oci-dir', 'app:1', '-o', join(work, 'layout')], { root }), 'save --format oci-dir');
  t.deepEqual(await validateImage({ kind: 'oci-layout', path: join(work, 'layout'), name: 'app:1' }, { names: ['app:1'] }), described);
  const ctx = join(work, 'ctx');
  await run('mkdir', ['-p', ctx]);
  await writeFile(join(ctx, 'Dockerfile'), `FROM oci-layout://${join(work, 'layout')}:1\nRUN cat /data/one /data/sub/three > /data/both\n`);
  await ok(tsbuild(['build', '-q', '-t', 'child:1', ctx], { root: join(work, 's3') }), 'build FROM oci-layout');
  t.deepEqual((await facts(join(work, 's3'), 'child:1')).diffIds.slice(0, 5), want.diffIds);
  t.is((await tsbuild(['run', 'child:1', 'cat', '/data/both'], { root: join(work, 's3') })).stdout, 'one\nthree\n');
});

test('gzip OCI archive from build -o -> docker-archive: layers decompressed, ID and diff_ids kept; compressed archives load', async (t) => {
  const work = await tempDir('formats-gz', t);
  const root0 = await appStore(work, [`type=oci,dest=${join(work, 'gz.tar')}`], t);
  const want = await facts(root0, 'app:1');
  const l1 = await ok(tsbuild(['load', '-i', join(work, 'gz.tar')], { root: join(work, 's1') }), 'load gzip OCI');
  t.is(l1.stdout, 'Loaded image: app:1\n');
  const gz = await facts(join(work, 's1'), 'app:1');
  t.is(gz.id, want.id);
  t.deepEqual(gz.diffIds, want.diffIds);
  t.is(gz.manifest, want.manifest, 'the store holds the manifest the archive holds (one manifest per build)');
  await ok(tsbuild(['save', 'app:1', '-o', join(work, 'd.tar')], { root: join(work, 's1') }), 'save docker');
  const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', `docker-archive:${join(work, 'd.tar')}`])).stdout) as { config: { digest: string }; layers: Array<{ digest: string }> };
  t.is(raw.config.digest, want.id);
  t.deepEqual(raw.layers.map((l) => l.digest), want.diffIds, 'docker-archive layers are uncompressed, like docker save');
  // The whole archive compressed (docker load takes gzip, xz and zstd too).
  for (const [tool, args] of [['gzip', ['-c']], ['xz', ['-c', '-T1']], ['zstd', ['-c', '-q']]] as const) {
    const packed = join(work, `d.tar.${tool}`);
    await pipeline(spawn(tool, [...args, join(work, 'd.tar')]).stdout, createWriteStream(packed));
    const root = join(work, `s-${tool}`);
    await ok(tsbuild(['load', '-i', packed], { root }), `load ${tool}`);
    const got = await facts(root, 'app:1');
    t.is(got.id, want.id, tool);
    t.deepEqual(got.diffIds, want.diffIds, tool);
    t.deepEqual(((await manifestBody(root, got.manifest)) as { layers: Array<{ digest: string }> }).layers.map((l) => l.digest), want.diffIds, `${tool}: the archive's uncompressed layers`);
  }
});

test('skopeo copy oci-archive: -> docker-archive: (what podman save and buildah push write) loads back with the same ID and diff_ids', async (t) => {
  const work = await tempDir('formats-skopeo', t);
  // skopeo 1.9 refuses zstd layers in a docker-archive ("zstd compression is not supported for docker images").
  const compressions = ['uncompressed', 'gzip'];
  const root0 = await appStore(work, compressions.map((c) => `type=oci,dest=${join(work, `${c}.oci.tar`)},compression=${c}`), t);
  const want = await facts(root0, 'app:1');
  for (const compression of compressions) {
    const oci = join(work, `${compression}.oci.tar`);
    const docker = join(work, `${compression}.docker.tar`);
    await run('skopeo', ['copy', '-q', `oci-archive:${oci}`, `docker-archive:${docker}:localhost/skopeo/app:2`]);
    const listing = (await run('tar', ['-tvf', docker])).stdout;
    t.regex(listing, /^l.* [0-9a-f]{64}\/layer\.tar -> \.\.\/[0-9a-f]{64}\.tar$/m, 'containers-image writes legacy symlinks');
    const root = join(work, `s-${compression}`);
    const res = await ok(tsbuild(['load', '-i', docker], { root }), 'load skopeo archive');
    t.is(res.stdout, 'Loaded image: localhost/skopeo/app:2\n');
    const got = await facts(root, 'localhost/skopeo/app:2');
    t.is(got.id, want.id, compression);
    t.deepEqual(got.diffIds, want.diffIds, compression);
    t.is((await tsbuild(['run', 'localhost/skopeo/app:2'], { root })).stdout, 'one\n');
  }
  // And skopeo reads back what we save.
  await ok(tsbuild(['save', 'app:1', '-o', join(work, 'ours.tar')], { root: root0 }), 'save');
  await run('skopeo', ['copy', '-q', `docker-archive:${join(work, 'ours.tar')}`, `oci-archive:${join(work, 'back.tar')}:app:1`]);
  await ok(tsbuild(['load', '-i', join(work, 'back.tar')], { root: join(work, 's-back') }), 'load skopeo OCI archive');
  t.deepEqual((await facts(join(work, 's-back'), 'app:1')).diffIds, want.diffIds);
});

test('docker save output (recorded in fixtures/archives) loads with docker\'s image ID, layers and tree', async (t) => {
  const work = await tempDir('formats-docker', t);
  const root = join(work, 'store');
  const rec = JSON.parse(await readFile(join(FIXTURES, 'archives', 'docker-save.json'), 'utf8')) as { Id: string; RepoTags: string[]; Layers: string[] };
  const archive = join(FIXTURES, 'archives', 'docker-save.tar');
  const res = await ok(tsbuild(['load', '-i', archive], { root }), 'load docker save');
  t.is(res.stdout, `Loaded image: ${rec.RepoTags[0]}\n`);
  const got = await facts(root, rec.RepoTags[0]!);
  t.is(got.id, rec.Id);
  t.deepEqual(got.diffIds, rec.Layers);
  // gzip-compressed, through stdin, into another store.
  await pipeline(createReadStream(archive), createGzip(), createWriteStream(join(work, 'save.tar.gz')));
  await ok(tsbuild(['load'], { root: join(work, 's2'), stdin: { file: join(work, 'save.tar.gz') } }), 'load gz from stdin');
  t.is((await facts(join(work, 's2'), rec.RepoTags[0]!)).id, rec.Id);
  // The filesystem docker saw.
  const ctx = join(work, 'ctx');
  await run('mkdir', ['-p', ctx]);
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${rec.RepoTags[0]}\n`);
  await ok(tsbuild(['build', '-q', '-o', `type=local,dest=${join(work, 'rootfs')}`, ctx], { root }), 'export local');
  t.is(await treeOf(join(work, 'rootfs')), await readFile(join(FIXTURES, 'archives', 'tree.txt'), 'utf8'));
  // Saved again: the same config digest (what docker load would call the image).
  await ok(tsbuild(['save', rec.RepoTags[0]!, '-o', join(work, 'again.tar')], { root }), 'save');
  const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', `docker-archive:${join(work, 'again.tar')}`])).stdout) as { config: { digest: string } };
  t.is(raw.config.digest, rec.Id);
});

test('umoci unpack of our OCI export and our own -o type=local give the same tree', async (t) => {
  const work = await tempDir('formats-umoci', t);
  const root = await appStore(work, [`type=oci,dest=${join(work, 'built')},tar=false`, `type=local,dest=${join(work, 'rootfs')}`], t);
  await ok(tsbuild(['save', '--format', 'oci-dir', 'app:1', '-o', join(work, 'layout')], { root }), 'save oci-dir');
  await run('umoci', ['unpack', '--image', `${join(work, 'layout')}:1`, join(work, 'bundle')]);
  await run('umoci', ['unpack', '--image', `${join(work, 'built')}:1`, join(work, 'bundle2')]);
  const ours = await treeOf(join(work, 'rootfs'));
  t.regex(ours, /^data\/one\tfile\t4755\t0:0\t4 [0-9a-f]+ hardlink#1$/m);
  t.regex(ours, /^data\/hard\tfile\t4755\t0:0\t4 [0-9a-f]+ hardlink#1$/m);
  t.notRegex(ours, /^data\/two/m);
  t.is(await treeOf(join(work, 'bundle', 'rootfs')), ours, 'save --format oci-dir');
  t.is(await treeOf(join(work, 'bundle2', 'rootfs')), ours, 'build -o type=oci,tar=false');
});

test('load, save, tag and rmi: docker\'s messages and exit codes; a failed load changes nothing', async (t) => {
  const work = await tempDir('formats-cli', t);
  const root = await appStore(work, [], t);
  const want = await facts(root, 'app:1');
  await ok(tsbuild(['save', 'app:1', '-o', join(work, 'app.tar')], { root }), 'save');
  const bytes = await readFile(join(work, 'app.tar'));
  await writeFile(join(work, 'cut.tar'), bytes.subarray(0, Math.floor(bytes.length / 2)));
  const before = withoutLeases(await storeFingerprint(root));
  const cut = await tsbuild(['load', '-i', join(work, 'cut.tar')], { root });
  t.is(cut.code, 1);
  t.regex(cut.stderr, /cut\.tar.*unexpected EOF/);
  t.deepEqual(withoutLeases(await storeFingerprint(root)), before, 'store unchanged');
  const missing = await tsbuild(['load', '-i', join(work, 'nope.tar')], { root });
  t.is(missing.code, 1);
  t.regex(missing.stderr, /nope\.tar/);
  t.is((await tsbuild(['save', 'app:1', '-o', join(work, 'no/such/dir/x.tar')], { root })).code, 1);
  const unknown = await tsbuild(['save', 'nosuch:1', '-o', join(work, 'x.tar')], { root });
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /nosuch:1/);
  t.is((await tsbuild(['save'], { root })).code, 2);
  t.is((await tsbuild(['save', '--format', 'zip', 'app:1', '-o', join(work, 'x.tar')], { root })).code, 2);
  t.is((await tsbuild(['save', '--format', 'oci-dir', 'app:1'], { root })).code, 2);

  await ok(tsbuild(['tag', 'app:1', 'localhost:5000/app:2'], { root }), 'tag');
  await ok(tsbuild(['tag', want.id.slice(7, 19), 'app:3'], { root }), 'tag by ID');
  t.is((await tsbuild(['tag', 'app:1', 'Bad Name'], { root })).code, 2);
  t.is((await tsbuild(['tag', 'nosuch', 'x:1'], { root })).code, 1);
  t.is((await tsbuild(['tag', 'app:1'], { root })).code, 2);
  t.deepEqual((await facts(root, 'app:3')).tags.sort(), ['app:1', 'app:3', 'localhost:5000/app:2']);

  const conflict = await tsbuild(['rmi', want.id.slice(7, 19)], { root });
  t.is(conflict.code, 1);
  t.regex(conflict.stderr, /must be forced/);
  const one = await tsbuild(['rmi', 'app:3', 'nosuch:9'], { root });
  t.is(one.code, 1, 'a missing image fails the command, the others are still removed');
  t.is(one.stdout, 'Untagged: app:3\n');
  t.regex(one.stderr, /nosuch:9/);
  const forced = await ok(tsbuild(['rmi', '-f', want.id], { root }), 'rmi -f');
  t.is(forced.stdout, 'Untagged: app:1\nUntagged: localhost:5000/app:2\n');
  t.is((await tsbuild(['images', '-q'], { root })).stdout.includes(want.id.slice(7, 19)), false);
  t.true((await readFile(join(root, 'blobs/sha256', want.id.slice(7)))).length > 0, 'rmi leaves blobs to prune');
  // Loaded again from the archive: the same image.
  t.is((await ok(tsbuild(['load', '-i', join(work, 'app.tar')], { root }), 'reload')).stdout, 'Loaded image: app:1\n');
  await sameImageViaDocker(t, root, 'app:1', root, want);
});
