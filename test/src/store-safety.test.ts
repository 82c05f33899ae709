/**
 * The store under stress: kill -9 at many points, several processes at once, a full
 * disk, and corrupt images. Afterwards `tsbuild store verify` is clean and builds work.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, NO_HOST_REGISTRY_CONFIG, run, tsbuild } from './helpers/cli.js';
import { busyboxStore } from './helpers/busybox.js';
import { removeDir, tempDir } from './helpers/fixtures.js';
import { storeFingerprint } from './helpers/store.js';

async function verifyClean(t: import('ava').ExecutionContext, root: string, when: string): Promise<void> {
  const v = await tsbuild(['store', 'verify'], { root });
  t.is(v.code, 0, `${when}: ${v.stdout}${v.stderr}`);
  t.regex(v.stdout, /: OK\n$/, when);
}

/** A context whose build takes a while and writes several layers: COPY of 24 MiB, RUNs. */
async function slowContext(dir: string, tag: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'big.bin'), randomBytes(24 * 1024 * 1024));
  await writeFile(join(dir, 'Dockerfile'), `FROM busybox\nCOPY big.bin /data/big.bin\nRUN cp /data/big.bin /data/copy.bin && echo ${tag} > /data/tag\nRUN sha256sum /data/copy.bin > /data/sum\nCOPY Dockerfile /data/\n`);
}

test('store verify: a sound store is OK; a flipped bit is found and named', async (t) => {
  const root = await busyboxStore(t);
  await verifyClean(t, root, 'fresh');
  const index = JSON.parse(await readFile(join(root, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
  const manifest = JSON.parse(await readFile(join(root, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: Array<{ digest: string }> };
  const victim = join(root, 'blobs', 'sha256', manifest.layers[0]!.digest.slice(7));
  await run('chmod', ['u+w', victim]);
  const bytes = await readFile(victim);
  bytes[1000] ^= 1;
  await writeFile(victim, bytes);
  const v = await tsbuild(['store', 'verify'], { root });
  t.is(v.code, 1);
  t.true(v.stdout.includes(`PROBLEM: blob ${manifest.layers[0]!.digest}: its content hashes to sha256:`), v.stdout);
});

test('prune removes what no tag reaches and keeps tagged images runnable', async (t) => {
  const root = await busyboxStore(t);
  const ctx = await tempDir('prune', t);
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo untagged > /u\n');
  t.is((await tsbuild(['build', '-q', ctx], { root })).code, 0);
  const p = await tsbuild(['prune'], { root });
  t.is(p.code, 0, p.stderr);
  t.regex(p.stdout, /^Removed 2 blobs, 0 snapshots/, 'the untagged image (manifest and config); the build cache keeps its layer');
  t.regex((await tsbuild(['prune'], { root })).stdout, /^Removed 0 blobs, 0 snapshots/);
  const all = await tsbuild(['prune', '--all'], { root });
  t.regex(all.stdout, /^Removed [1-9]\d* blobs, [1-9]\d* snapshots and [1-9]\d* cache records/, '--all empties the build cache too');
  await verifyClean(t, root, 'after prune');
  t.is((await tsbuild(['run', 'busybox', 'true'], { root })).code, 0, 'the tagged base still runs');
});

test('four builds and repeated prunes into one store at once: all builds succeed, nothing is lost', async (t) => {
  const root = await busyboxStore(t);
  const work = await tempDir('concurrent', t);
  const builds = [0, 1, 2, 3].map(async (i) => {
    const ctx = join(work, `ctx${i}`);
    await slowContext(ctx, `build-${i}`);
    return tsbuild(['build', '-q', '-t', `concurrent:${i}`, ctx], { root });
  });
  let stop = false;
  const pruner = (async () => {
    let n = 0;
    while (!stop) {
      const p = await tsbuild(['prune'], { root });
      if (p.code !== 0) throw new Error(p.stderr);
      n++;
    }
    return n;
  })();
  const results = await Promise.all(builds);
  stop = true;
  t.true((await pruner) >= 1);
  for (const r of results) t.is(r.code, 0, r.stderr);
  await verifyClean(t, root, 'after concurrent builds and prunes');
  for (let i = 0; i < 4; i++) {
    const r = await tsbuild(['run', `concurrent:${i}`, 'sh', '-c', 'cat /data/tag && cd /data && sha256sum -c sum >/dev/null && echo ok'], { root });
    t.is(r.stdout, `build-${i}\nok\n`, r.stderr);
  }
});

test('kill -9 at many points of a build: the store stays sound and the next build succeeds', async (t) => {
  const root = await busyboxStore(t);
  const work = await tempDir('crash', t);
  const ctx = join(work, 'ctx');
  await slowContext(ctx, 'crash');
  for (const delay of [30, 120, 250, 400, 600, 800, 1100, 1500]) {
    const child = spawn(process.execPath, [CLI, 'build', '-q', '-t', 'crash:1', ctx], { env: { ...process.env, ...NO_HOST_REGISTRY_CONFIG, TSBUILD_ROOT: root }, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('close', resolve));
    await sleep(delay);
    child.kill('SIGKILL');
    await exited;
    await verifyClean(t, root, `killed after ${delay} ms`);
  }
  const ok = await tsbuild(['build', '-q', '-t', 'crash:1', ctx], { root });
  t.is(ok.code, 0, ok.stderr);
  t.is((await tsbuild(['run', 'crash:1', 'cat', '/data/tag'], { root })).stdout, 'crash\n');
  t.is((await tsbuild(['prune'], { root })).code, 0);
  await verifyClean(t, root, 'after the final build and a prune');
});

test('kill -9 during prune leaves a sound store', async (t) => {
  const root = await busyboxStore(t);
  const work = await tempDir('crash-prune', t);
  const ctx = join(work, 'ctx');
  await slowContext(ctx, 'p');
  for (let i = 0; i < 3; i++) t.is((await tsbuild(['build', '-q', '--build-arg', `X=${i}`, ctx], { root })).code, 0);
  for (const delay of [5, 40, 90]) {
    const child = spawn(process.execPath, [CLI, 'prune'], { env: { ...process.env, ...NO_HOST_REGISTRY_CONFIG, TSBUILD_ROOT: root }, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('close', resolve));
    await sleep(delay);
    child.kill('SIGKILL');
    await exited;
    await verifyClean(t, root, `prune killed after ${delay} ms`);
  }
  t.is((await tsbuild(['run', 'busybox', 'true'], { root })).code, 0);
});

test('a full disk: a clear error, nothing half-written, and a retry after freeing space succeeds', async (t) => {
  const work = await tempDir('enospc');
  const mnt = join(work, 'small');
  await mkdir(mnt);
  await run('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mnt]);
  try {
    const root = join(mnt, 'store');
    const ctx = join(work, 'ctx');
    await mkdir(ctx);
    await writeFile(join(ctx, 'big.bin'), randomBytes(8 * 1024 * 1024));
    await writeFile(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY big.bin /big.bin\n');
    t.is((await tsbuild(['images'], { root })).code, 0, 'creates the store');
    const before = await storeFingerprint(root);
    const res = await tsbuild(['build', '-t', 'big:1', '--progress', 'plain', ctx], { root });
    t.is(res.code, 1);
    t.regex(res.stderr, /Dockerfile:2: .*no space left on device/i);
    const after = await storeFingerprint(root);
    t.deepEqual(after.filter((l) => !before.includes(l) && !/\/$/.test(l)), [], 'no new files but directories');
    await verifyClean(t, root, 'after ENOSPC');
    await run('mount', ['-o', 'remount,size=64m', mnt]);
    const ok = await tsbuild(['build', '-q', '-t', 'big:1', ctx], { root });
    t.is(ok.code, 0, ok.stderr);
    await verifyClean(t, root, 'after the retry');
  } finally {
    await run('umount', [mnt]).catch(() => {});
    await removeDir(work);
  }
});

/** Rewrite an OCI layout in place: fn edits the config and layers; digests are recomputed up the chain. */
async function tamper(layout: string, fn: (config: { rootfs: { diff_ids: string[] } }, layers: Array<{ digest: string; size: number }>) => Promise<void>): Promise<void> {
  const blob = (d: string) => join(layout, 'blobs', 'sha256', d.slice(7));
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; size: number }> };
  const manifest = JSON.parse(await readFile(blob(index.manifests[0]!.digest), 'utf8')) as { config: { digest: string; size: number }; layers: Array<{ digest: string; size: number }> };
  const config = JSON.parse(await readFile(blob(manifest.config.digest), 'utf8')) as { rootfs: { diff_ids: string[] } };
  await fn(config, manifest.layers);
  const put = async (bytes: Buffer) => {
    const d = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await writeFile(blob(d), bytes);
    return { digest: d, size: bytes.length };
  };
  manifest.config = { ...manifest.config, ...(await put(Buffer.from(JSON.stringify(config)))) };
  index.manifests[0] = { ...index.manifests[0]!, ...(await put(Buffer.from(JSON.stringify(manifest)))) };
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
}

for (const [name, damage, message] of [
  ['a wrong diff_id', async (config: { rootfs: { diff_ids: string[] } }) => { config.rootfs.diff_ids[config.rootfs.diff_ids.length - 1] = `sha256:${'0'.repeat(64)}`; }, /sha256:0{64}/],
  ['a truncated layer blob', async (_c: unknown, layers: Array<{ digest: string; size: number }>, layout: string) => { await truncate(join(layout, 'blobs', 'sha256', layers[layers.length - 1]!.digest.slice(7)), 100); }, /size mismatch/],
  ['a layer blob with one flipped bit', async (_c: unknown, layers: Array<{ digest: string; size: number }>, layout: string) => {
    // The image's own layer: the busybox layers below are already in the store, verified,
    // so by content addressing their damaged copies are never read.
    const p = join(layout, 'blobs', 'sha256', layers[layers.length - 1]!.digest.slice(7));
    const b = await readFile(p);
    b[b.length >> 1] ^= 1;
    await writeFile(p, b);
  }, /digest mismatch/],
] as const) {
  test(`an image with ${name} is rejected naming the digest, and nothing of it stays in the store`, async (t) => {
    const root = await busyboxStore(t);
    const work = await tempDir('corrupt', t);
    await writeFile(join(work, 'Dockerfile'), 'FROM busybox\nRUN echo layer > /l\n');
    const src = await busyboxStore();
    const made = await tsbuild(['build', '-q', '-t', 'src:1', '-o', `type=oci,dest=${work}/layout,tar=false,compression=uncompressed`, work], { root: src });
    await removeDir(join(src, '..'));
    t.is(made.code, 0, made.stderr);
    let layerDigest = '';
    await tamper(join(work, 'layout'), async (config, layers) => {
      layerDigest = layers[layers.length - 1]!.digest;
      await (damage as (c: typeof config, l: typeof layers, layout: string) => Promise<void>)(config, layers, join(work, 'layout'));
    });
    await writeFile(join(work, 'Dockerfile.from'), `FROM oci-layout://${work}/layout:1\nRUN true\n`);
    const before = await storeFingerprint(root);
    const res = await tsbuild(['build', '-f', join(work, 'Dockerfile.from'), '-t', 'bad:1', work], { root });
    t.is(res.code, 1, res.stderr);
    t.regex(res.stderr, message);
    t.true(res.stderr.includes(layerDigest.slice(0, 19)) || /diff_id/.test(res.stderr), res.stderr);
    t.deepEqual(await storeFingerprint(root), before, 'store unchanged');
    const viaRun = await tsbuild(['run', `oci:${work}/layout:1`, 'true'], { root });
    t.is(viaRun.code, 125);
    t.deepEqual(await storeFingerprint(root), before, 'store unchanged after tsbuild run too');
  });
}



test('kill -9 during a load leaves a sound store; the next load succeeds', async (t) => {
  const root = await busyboxStore(t);
  const work = await tempDir('crash-load', t);
  const ctx = join(work, 'ctx');
  await slowContext(ctx, 'load');
  const src = await busyboxStore();
  const made = await tsbuild(['build', '-q', '-t', 'toload:1', '-o', `type=docker,dest=${work}/img.tar`, ctx], { root: src });
  await removeDir(join(src, '..'));
  t.is(made.code, 0, made.stderr);
  for (const delay of [20, 80, 160, 300]) {
    const child = spawn(process.execPath, [CLI, 'load', '-i', `${work}/img.tar`], { env: { ...process.env, ...NO_HOST_REGISTRY_CONFIG, TSBUILD_ROOT: root }, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('close', resolve));
    await sleep(delay);
    child.kill('SIGKILL');
    await exited;
    await verifyClean(t, root, `load killed after ${delay} ms`);
  }
  const ok = await tsbuild(['load', '-i', `${work}/img.tar`], { root });
  t.is(ok.code, 0, ok.stderr);
  t.is((await tsbuild(['run', 'toload:1', 'cat', '/data/tag'], { root })).stdout, 'load\n');
  await verifyClean(t, root, 'after the load');
});
