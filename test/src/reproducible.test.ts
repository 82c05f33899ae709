/**
 * With SOURCE_DATE_EPOCH, two builds of the same Dockerfile and context give the same
 * image digest and byte-identical archives even when the context files' mtimes differ.
 * Without it, the same change shows up (so the check can fail).
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { readdir, readFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { tsbuild } from './helpers/cli.js';
import { prepareFixture, removeDir, tempDir } from './helpers/fixtures.js';

async function touchAll(dir: string, seconds: number): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isSymbolicLink()) continue;
    await utimes(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name), seconds, seconds);
  }
}

async function buildTwice(env: Record<string, string>): Promise<{ ids: string[]; archives: string[]; manifests: string[] }> {
  const ids: string[] = [];
  const archives: string[] = [];
  const manifests: string[] = [];
  const now = Math.floor(Date.now() / 1000);
  for (const [i, mtime] of [now - 50, now + 3600].entries()) {
    const ctx = await prepareFixture('copy-semantics');
    const work = await tempDir(`repro-${i}`);
    try {
      await touchAll(ctx, mtime);
      const res = await tsbuild(['build', '-q', '-t', 'repro', '-o', `type=oci,dest=${work}/out.tar`, '--iidfile', `${work}/iid`, ctx], { root: join(work, 'store'), env });
      if (res.code !== 0) throw new Error(res.stderr);
      ids.push(await readFile(`${work}/iid`, 'utf8'));
      archives.push(createHash('sha256').update(await readFile(`${work}/out.tar`)).digest('hex'));
      const index = JSON.parse(await readFile(join(work, 'store', 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
      manifests.push(index.manifests[0]!.digest);
    } finally {
      await removeDir(ctx);
      await removeDir(work);
    }
  }
  return { ids, archives, manifests };
}

test('SOURCE_DATE_EPOCH: same digests and archive bytes although context mtimes differ', async (t) => {
  const r = await buildTwice({ SOURCE_DATE_EPOCH: '1700000000' });
  t.is(r.ids[0], r.ids[1], 'image ID (config digest)');
  t.is(r.manifests[0], r.manifests[1], 'manifest digest in the store');
  t.is(r.archives[0], r.archives[1], 'OCI archive bytes');
});

test('SOURCE_DATE_EPOCH as a build arg works the same way', async (t) => {
  const a = await buildTwice({ SOURCE_DATE_EPOCH: '1700000000' });
  const ctxArgs = await buildTwiceWithArg();
  t.is(ctxArgs[0], ctxArgs[1]);
  t.is(ctxArgs[0], a.ids[0]);
});

async function buildTwiceWithArg(): Promise<string[]> {
  const out: string[] = [];
  for (const mtime of [1800000000, 1900000000]) {
    const ctx = await prepareFixture('copy-semantics');
    const work = await tempDir('repro-arg');
    try {
      await touchAll(ctx, mtime);
      const res = await tsbuild(['build', '-q', '--build-arg', 'SOURCE_DATE_EPOCH=1700000000', '-t', 'repro', ctx], { root: join(work, 'store') });
      if (res.code !== 0) throw new Error(res.stderr);
      out.push(res.stdout.trim());
    } finally {
      await removeDir(ctx);
      await removeDir(work);
    }
  }
  return out;
}

test('without SOURCE_DATE_EPOCH the mtimes change the image', async (t) => {
  const r = await buildTwice({});
  t.not(r.ids[0], r.ids[1]);
  t.not(r.archives[0], r.archives[1]);
});
