/**
 * Local transport references with colons in them, as buildah writes them
 * (`oci-archive:FILE:NAME:TAG`), read by `run`, `save` and `FROM`.
 */
import test from 'ava';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, tsbuild } from './helpers/cli.js';
import { buildah, busyboxImage } from './helpers/buildah.js';
import { removeDir, tempDir } from './helpers/fixtures.js';

let work: string;

test.before(async () => {
  work = await tempDir('refs');
  const b = buildah(join(work, 'buildah'));
  await busyboxImage(b, 'myname:1.0', 'hello from buildah');
  await busyboxImage(b, 'other:2', 'the other one');
  // Two images in one archive, so the name after the path has to choose.
  await b(['push', '-q', 'myname:1.0', `oci-archive:${work}/x.tar:myname:1.0`]);
  await b(['push', '-q', 'myname:1.0', `docker-archive:${work}/d.tar:myname:1.0`]);
  await b(['push', '-q', 'myname:1.0', `oci:${work}/layout:myname:1.0`]);
  await b(['push', '-q', 'other:2', `oci:${work}/layout:other:2`]);
  // buildah cannot write a path with a colon (it splits at the first); copy one there.
  await copyFile(join(work, 'x.tar'), join(work, 'a:b.tar'));
});

test.after.always(async () => {
  await removeDir(work);
});

test('run oci-archive:FILE:NAME:TAG, docker-archive:FILE:NAME:TAG and oci:DIR:NAME:TAG', async (t) => {
  const root = join(work, 'store-run');
  for (const ref of [`oci-archive:${work}/x.tar:myname:1.0`, `oci-archive:${work}/x.tar`, `docker-archive:${work}/d.tar:myname:1.0`, `oci:${work}/layout:myname:1.0`, `oci:${work}/layout:@0`]) {
    const res = await tsbuild(['run', ref], { root });
    t.is(res.code, 0, `${ref}: ${res.stderr}`);
    t.is(res.stdout, 'hello from buildah\n', ref);
  }
  const other = await tsbuild(['run', `oci:${work}/layout:other:2`], { root });
  t.is(other.stdout, 'the other one\n');
  const missing = await tsbuild(['run', `oci:${work}/layout:nope:1`], { root });
  t.is(missing.code, 125);
  t.regex(missing.stderr, /has no image named "nope:1"/);
  t.notRegex(missing.stderr, /ENOENT|\n\s+at /);
});

test('a path holding a colon: the file that exists wins', async (t) => {
  const root = join(work, 'store-colon');
  for (const ref of [`oci-archive:${work}/a:b.tar`, `oci-archive:${work}/a:b.tar:myname:1.0`]) {
    const res = await tsbuild(['run', ref], { root });
    t.is(res.code, 0, `${ref}: ${res.stderr}`);
    t.is(res.stdout, 'hello from buildah\n', ref);
  }
  const bad = await tsbuild(['run', `oci-archive:${work}/a:b.tar:/not-a-name`], { root });
  t.is(bad.code, 125);
  t.regex(bad.stderr, /"\/not-a-name" is not an image name/);
});

test('save and FROM take the same references', async (t) => {
  const root = join(work, 'store-save');
  const out = join(work, 'saved.tar');
  const save = await tsbuild(['save', '-o', out, `oci-archive:${work}/x.tar:myname:1.0`], { root });
  t.is(save.code, 0, save.stderr);
  const manifest = JSON.parse((await run('tar', ['-xOf', out, 'manifest.json'])).stdout) as Array<{ Layers: string[] }>;
  t.is(manifest.length, 1);
  const ctx = join(work, 'ctx');
  await run('mkdir', ['-p', ctx]);
  await writeFile(join(ctx, 'Dockerfile'), `FROM docker-archive:${work}/d.tar:myname:1.0\nCMD ["/bin/busybox", "echo", "built on it"]\n`);
  const built = await tsbuild(['build', '-q', '-t', 'on-top:1', ctx], { root });
  t.is(built.code, 0, built.stderr);
  t.is((await tsbuild(['run', 'on-top:1'], { root })).stdout, 'built on it\n');
});
