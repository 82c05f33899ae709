/**
 * Hostile input through the CLI: each case ends in a result, or in exit 1 with a message
 * naming the file and line (or the document), never a JavaScript stack trace. No case
 * measures time; a hang is caught by ava's timeout.
 */
import test from 'ava';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, tsbuild, type CliResult } from './helpers/cli.js';
import { removeDir, tempDir } from './helpers/fixtures.js';

const STACK = /\n\s+at .*\(|TypeError|RangeError|SyntaxError/;

async function build(t: import('ava').ExecutionContext, files: Record<string, string>, args: (ctx: string, work: string) => string[] = (ctx) => [ctx]): Promise<{ res: CliResult; work: string }> {
  const work = await tempDir('hostile');
  t.teardown(() => removeDir(work));
  const ctx = join(work, 'ctx');
  await mkdir(ctx);
  for (const [name, content] of Object.entries(files)) await writeFile(join(ctx, name), content);
  const res = await tsbuild(['build', '--progress', 'plain', ...args(ctx, work)], { root: join(work, 'store'), cwd: ctx });
  t.notRegex(res.stderr, STACK);
  return { res, work };
}

test('.dockerignore *a*a*a*a*a*a*a*b with a file named a×200: the build goes on, the file is sent', async (t) => {
  const name = 'a'.repeat(200);
  const { res, work } = await build(
    t,
    { Dockerfile: 'FROM scratch\nCOPY . /ctx/\n', '.dockerignore': '*a*a*a*a*a*a*a*b\n**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/**/x\n', [name]: 'x', [`${name}b`]: 'y' },
    (ctx, w) => ['-o', `type=local,dest=${join(w, 'out')}`, ctx],
  );
  t.is(res.code, 0, res.stderr);
  const sent = await readdir(join(work, 'out', 'ctx'));
  t.true(sent.includes(name));
  t.false(sent.includes(`${name}b`), 'the pattern still excludes what it matches');
});

test('.dockerignore with a? ×10,000 and \\Q + 20,000 *: patterns like any other', async (t) => {
  const { res } = await build(t, { Dockerfile: 'FROM scratch\nCOPY . /ctx/\n', '.dockerignore': `${'a?'.repeat(10_000)}\n\\Q${'*'.repeat(20_000)}\n`, f: 'x' });
  t.is(res.code, 0, res.stderr);
});

test('a bad .dockerignore pattern names the file and line', async (t) => {
  const { res } = await build(t, { Dockerfile: 'FROM scratch\nCOPY . /ctx/\n', '.dockerignore': `ok\n${'\\b'.repeat(16)}[\n` });
  t.is(res.code, 1);
  t.regex(res.stderr, /\.dockerignore:2: syntax error in pattern/);
});

test("'ONBUILD ' ×8,000 on one line is the typed chaining error", async (t) => {
  const { res } = await build(t, { Dockerfile: `FROM scratch\n${'ONBUILD '.repeat(8_000)}RUN x\n` });
  t.is(res.code, 1);
  t.regex(res.stderr, /Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed/);
});

test('${a:- ×3,000 and an expansion past 1 MiB name the Dockerfile line', async (t) => {
  const nested = await build(t, { Dockerfile: `FROM scratch\nENV A=${'${a:-'.repeat(3_000)}\n` });
  t.is(nested.res.code, 1);
  t.regex(nested.res.stderr, /Dockerfile:2: failed to process ".{0,300}\.\.\.": \$\{\.\.\.\} nested more than 128 deep/);
  const big = await build(t, { Dockerfile: `FROM scratch\nARG V\nENV A=${'$V'.repeat(10_000)}\n` }, (ctx) => ['--build-arg', `V=${'v'.repeat(2_000)}`, ctx]);
  t.is(big.res.code, 1);
  t.regex(big.res.stderr, /Dockerfile:3: .*expansion is longer than 1048576 characters/);
});

test('a COPY heredoc whose references would expand to gigabytes names the line', async (t) => {
  const body = Array.from({ length: 20 }, () => '$V'.repeat(2_000)).join('\n');
  const { res } = await build(t, { Dockerfile: `FROM scratch\nARG V\nCOPY <<EOF /x\n${body}\nEOF\n` }, (ctx) => ['--build-arg', `V=${'v'.repeat(60_000)}`, ctx]);
  t.is(res.code, 1);
  t.regex(res.stderr, /Dockerfile:3: the expanded heredoc is more than 16777216 characters longer than as written/);
});

test('load of an OCI archive whose index.json is null, or lists null: exit 1 naming index.json', async (t) => {
  const work = await tempDir('hostile');
  t.teardown(() => removeDir(work));
  for (const [i, index] of ['null', '{"schemaVersion":2,"manifests":[null]}'].entries()) {
    const dir = join(work, `layout${i}`);
    await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(dir, 'index.json'), index);
    const archive = join(work, `image${i}.tar`);
    await run('tar', ['-C', dir, '-cf', archive, '.']);
    const res = await tsbuild(['load', '-i', archive], { root: join(work, 'store') });
    t.is(res.code, 1, res.stderr);
    t.regex(res.stderr, i === 0 ? /index\.json: not a JSON object/ : /index\.json: manifests\[0\] is not a descriptor/);
    t.notRegex(res.stderr, STACK);
  }
});
