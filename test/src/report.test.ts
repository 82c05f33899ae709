/**
 * What the CLI reports, compared with docker: image and layer sizes (content, uncompressed;
 * empty layers 0 B), history times (one per build, the base's kept), a failed `-q` build
 * (the failing step's output), and a cache miss on a long value (where it differs).
 */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tsbuild } from './helpers/cli.js';
import { busyboxStore } from './helpers/busybox.js';
import { tempDir } from './helpers/fixtures.js';

interface Inspected {
  Id: string;
  Created: string;
  Size: number;
  RepoTags: string[];
  History: Array<{ created?: string; created_by?: string; empty_layer?: boolean }>;
}

async function inspect(root: string, name: string): Promise<Inspected> {
  const res = await tsbuild(['inspect', name], { root });
  if (res.code !== 0) throw new Error(res.stderr);
  return (JSON.parse(res.stdout) as Inspected[])[0]!;
}

test('SIZE is the uncompressed content, as docker shows it: an empty layer is 0B, not its tar\'s bytes', async (t) => {
  const work = await tempDir('sizes', t);
  const root = join(work, 'store');
  await writeFile(join(work, 'a.bin'), Buffer.alloc(1000, 1));
  await writeFile(join(work, 'b.bin'), Buffer.alloc(2345, 2));
  await writeFile(join(work, 'Dockerfile'), 'FROM scratch\nCOPY a.bin /a.bin\nWORKDIR /\nCOPY b.bin /data/b.bin\nENV X=1\n');
  const b = await tsbuild(['build', '-q', '-t', 'sizes:1', work], { root });
  t.is(b.code, 0, b.stderr);
  t.is((await inspect(root, 'sizes:1')).Size, 3345);
  const images = (await tsbuild(['images'], { root })).stdout;
  t.regex(images, /^sizes\s+1\s+[0-9a-f]{12}\s+.+\s3\.35kB$/m);
  const rows = (await tsbuild(['history', 'sizes:1'], { root })).stdout.trim().split('\n').slice(1);
  const sizes = rows.map((r) => r.split(/\s{3,}/)).map((cols) => [cols.find((c) => /^(ENV|COPY|WORKDIR)/.test(c))!.split(' ')[0], cols.find((c) => /^\d+(\.\d+)?k?B$/.test(c))]);
  t.deepEqual(sizes, [['ENV', '0B'], ['COPY', '2.35kB'], ['WORKDIR', '0B'], ['COPY', '1kB']]);
});

test('history: everything a build adds carries the build\'s time, which is the image\'s Created; the base keeps its own', async (t) => {
  const root = await busyboxStore(t);
  const ctx = await tempDir('times', t);
  const base = await inspect(root, 'busybox:latest');
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nENV A=1\nRUN echo hi > /hi\nLABEL x=y\nCMD ["cat", "/hi"]\n');
  const started = new Date().toISOString();
  const b = await tsbuild(['build', '-q', '-t', 'times:1', ctx], { root });
  t.is(b.code, 0, b.stderr);
  const img = await inspect(root, 'times:1');
  t.deepEqual(img.History.slice(0, base.History.length), base.History, 'the base\'s history, times included');
  const added = img.History.slice(base.History.length);
  t.is(added.length, 4);
  t.deepEqual([...new Set(added.map((h) => h.created))], [img.Created]);
  t.true(img.Created >= started, `${img.Created} is this build's, not the base's ${base.Created}`);
  const history = (await tsbuild(['history', 'times:1'], { root })).stdout;
  t.regex(history, /RUN \/bin\/sh -c echo hi > \/hi # buildkit\s+3B\s/, 'the RUN wrote one 3-byte file');
  const again = await tsbuild(['build', '-q', '-t', 'times:1', ctx], { root });
  t.is(again.stdout.trim(), img.Id, 'an unchanged rebuild is the same image');
});

test('-q: a failed build still shows the failing step\'s output and error; stdout stays empty', async (t) => {
  const root = await busyboxStore(t);
  const ctx = await tempDir('quiet', t);
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo quiet-ok\nRUN echo out-line; echo err-line >&2; exit 3\n');
  const res = await tsbuild(['build', '-q', ctx], { root });
  t.is(res.code, 1);
  t.is(res.stdout, '');
  t.notRegex(res.stderr, /quiet-ok/, 'steps that succeeded stay quiet');
  t.regex(res.stderr, /^#(\d+) \[stage-0 3\/3\] RUN echo out-line; echo err-line >&2; exit 3\n#\1 out-line\n#\1 err-line\n#\1 ERROR: .*exit code: 3\n/m);
  t.regex(res.stderr, /^ERROR: Dockerfile:3: /m);
});

test('a cache miss on a long value shows where the values differ', async (t) => {
  const root = await busyboxStore(t);
  const ctx = await tempDir('longmiss', t);
  const long = `SETTING_${'x'.repeat(150)}`;
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nARG LONG\nRUN echo "$LONG" > /long\n');
  t.is((await tsbuild(['build', '-q', '--build-arg', `LONG=${long}-one`, ctx], { root })).code, 0);
  const res = await tsbuild(['build', '--progress', 'plain', '--build-arg', `LONG=${long}-two`, ctx], { root });
  t.is(res.code, 0, res.stderr);
  const miss = /cache miss: env\[\d+\] was "(.*)", now "(.*)"$/m.exec(res.stderr);
  t.truthy(miss, res.stderr);
  t.regex(miss![1]!, /^….*x-one$/);
  t.regex(miss![2]!, /^….*x-two$/);
});
