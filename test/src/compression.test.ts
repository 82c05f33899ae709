/**
 * `tsbuild build --compression gzip|zstd|uncompressed --compression-level N`: the default
 * compression of exports, overridden per output by `-o ...,compression=`. Layers are
 * checked with the reference tools: skopeo reads the media types, umoci unpacks gzip
 * layers, and the host's `zstd -dc` / `gzip -dc` give back the uncompressed layer tar
 * (umoci 0.4.7, the version here, refuses tar+zstd layers: "blob is not correct
 * mediatype"). Digests are the same from two fresh stores.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, tsbuild } from './helpers/cli.js';
import { tempDir, type Teardown } from './helpers/fixtures.js';

interface Manifest {
  layers: Array<{ mediaType: string; digest: string; size: number }>;
}

const ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';
const GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const TAR = 'application/vnd.oci.image.layer.v1.tar';

/** A context whose first layer is a few MiB (several 1 MiB gzip members), the second tiny. */
async function context(t: Teardown): Promise<string> {
  const dir = await tempDir('compression-ctx', t);
  await writeFile(join(dir, 'big.bin'), Buffer.concat([randomBytes(3 << 20), Buffer.from('text\n'.repeat(100_000))]));
  await writeFile(join(dir, 'small.txt'), 'hello\n');
  await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY big.bin /big.bin\nCOPY small.txt /etc/small.txt\n');
  return dir;
}

const manifestOf = async (ref: string) => JSON.parse((await run('skopeo', ['inspect', '--raw', ref])).stdout) as Manifest;
const blob = (layout: string, digest: string) => join(layout, 'blobs', 'sha256', digest.slice(7));
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** `tool -dc FILE`'s output. */
function decompress(tool: string, file: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, ['-dc', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${tool} -dc ${file} exited ${code}: ${err}`))));
  });
}

test('--compression zstd: zstd layers that skopeo shows and zstd -dc turns back into the uncompressed layers; -o compression= wins', async (t) => {
  const ctx = await context(t);
  const work = await tempDir('compression', t);
  const res = await tsbuild(
    ['build', '-q', '-t', 'comp:1', '--compression', 'zstd', '-o', `type=oci,dest=${work}/zstd,tar=false`, '-o', `type=oci,dest=${work}/zstd.tar`, '-o', `type=oci,dest=${work}/gzip,tar=false,compression=gzip`, '-o', `type=oci,dest=${work}/plain,tar=false,compression=uncompressed`, ctx],
    { root: join(work, 'store') },
  );
  t.is(res.code, 0, res.stderr);
  const zstd = await manifestOf(`oci:${work}/zstd:1`);
  t.deepEqual(zstd.layers.map((l) => l.mediaType), [ZSTD, ZSTD]);
  t.deepEqual((await manifestOf(`oci-archive:${work}/zstd.tar`)).layers, zstd.layers, 'the archive holds the same layers');
  const gzip = await manifestOf(`oci:${work}/gzip:1`);
  t.deepEqual(gzip.layers.map((l) => l.mediaType), [GZIP, GZIP], '-o compression=gzip wins over --compression zstd');
  const plain = await manifestOf(`oci:${work}/plain:1`);
  t.deepEqual(plain.layers.map((l) => l.mediaType), [TAR, TAR]);
  for (const [i, layer] of plain.layers.entries()) {
    const tar = await readFile(blob(`${work}/plain`, layer.digest));
    t.is(sha256(tar), layer.digest);
    const fromZstd = await decompress('zstd', blob(`${work}/zstd`, zstd.layers[i]!.digest));
    t.is(sha256(fromZstd), layer.digest, `zstd -dc of layer ${i} is the uncompressed layer`);
    const fromGzip = await decompress('gzip', blob(`${work}/gzip`, gzip.layers[i]!.digest));
    t.is(sha256(fromGzip), layer.digest, `gzip -dc of layer ${i} is the uncompressed layer`);
  }
  // umoci reads the gzip export; this umoci (0.4.7) rejects tar+zstd, checked by zstd -dc above.
  await run('umoci', ['unpack', '--image', `${work}/gzip:1`, `${work}/bundle`]);
  t.deepEqual(await readFile(join(work, 'bundle/rootfs/big.bin')), await readFile(join(ctx, 'big.bin')));
  const umociZstd = await run('umoci', ['unpack', '--image', `${work}/zstd:1`, `${work}/bundle-zstd`], { allowFail: true });
  if (umociZstd.code === 0) t.deepEqual(await readFile(join(work, 'bundle-zstd/rootfs/big.bin')), await readFile(join(ctx, 'big.bin')), 'umoci reads the zstd export');
  else t.log(`umoci does not read zstd layers: ${umociZstd.stderr.trim().split('\n').at(-1)}`);
});

test('compressed layers are the same bytes from two fresh stores; --compression-level changes them', async (t) => {
  const ctx = await context(t);
  const work = await tempDir('compression-repro', t);
  const layers: Record<string, string[]> = {};
  for (const [name, flags] of [
    ['a-gzip', []],
    ['b-gzip', ['--compression', 'gzip']],
    ['a-zstd', ['--compression', 'zstd']],
    ['b-zstd', ['--compression', 'zstd']],
    ['gzip-1', ['--compression-level', '1']],
    ['zstd-19', ['--compression', 'zstd', '--compression-level', '19']],
  ] as const) {
    // SOURCE_DATE_EPOCH: the implied /etc of `COPY small.txt /etc/` otherwise gets the build's time.
    const res = await tsbuild(['build', '-q', ...flags, '-o', `type=oci,dest=${work}/${name},tar=false`, ctx], { root: join(work, `store-${name}`), env: { SOURCE_DATE_EPOCH: '1700000000' } });
    t.is(res.code, 0, res.stderr);
    const index = JSON.parse(await readFile(join(work, name, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const manifest = JSON.parse(await readFile(blob(join(work, name), index.manifests[0]!.digest), 'utf8')) as Manifest;
    layers[name] = manifest.layers.map((l) => l.digest);
  }
  t.deepEqual(layers['a-gzip'], layers['b-gzip'], 'gzip is the default of type=oci, and deterministic');
  t.deepEqual(layers['a-zstd'], layers['b-zstd']);
  t.notDeepEqual(layers['gzip-1']![0], layers['a-gzip']![0], '--compression-level 1 is not the default level');
  t.notDeepEqual(layers['zstd-19']![0], layers['a-zstd']![0]);
  const big = await decompress('gzip', blob(join(work, 'gzip-1'), layers['gzip-1']![0]!));
  t.true(big.length > 3 << 20);
});

test('bad --compression and --compression-level values are usage errors naming the flag', async (t) => {
  const ctx = await context(t);
  const work = await tempDir('compression-bad', t);
  const cases: Array<[string[], RegExp]> = [
    [['--compression', 'lz4'], /--compression "lz4": want gzip, zstd or uncompressed/],
    [['--compression-level', 'fast'], /--compression-level "fast": expected an integer/],
    [['--compression', 'gzip', '--compression-level', '10'], /--compression-level "10": gzip compression levels are 0-9/],
    [['--compression', 'zstd', '--compression-level', '0'], /--compression-level "0": zstd compression levels are 1-22/],
    [['--compression-level', '12', '-o', `type=oci,dest=${work}/x.tar`], /--compression-level 12 \(for -o type=oci,dest=[^)]*\): gzip compression levels are 0-9/],
    [['--compression', 'zstd', '-o', `type=oci,dest=${work}/x.tar,compression-level=23`], /-o type=oci,dest=.*: compression-level 23: zstd compression levels are 1-22/],
    [['-o', `type=oci,dest=${work}/x.tar,compression=gzip,compression-level=11`], /-o type=oci,dest=.*: gzip compression levels are 0-9/],
  ];
  for (const [flags, want] of cases) {
    const res = await tsbuild(['build', ...flags, ctx], { root: join(work, 'store') });
    t.is(res.code, 2, `${flags.join(' ')}: ${res.stderr}`);
    t.regex(res.stderr, want);
  }
  // zstd levels past 9 are fine for zstd, and a level is ignored for uncompressed outputs.
  const ok = await tsbuild(['build', '-q', '--compression', 'zstd', '--compression-level', '12', '-o', `type=oci,dest=${work}/ok.tar`, '-o', `type=docker,dest=${work}/d.tar,compression=uncompressed`, ctx], { root: join(work, 'store') });
  t.is(ok.code, 0, ok.stderr);
});
