/**
 * Bad input: a non-zero exit, a message naming the Dockerfile line (or the flag), and a
 * store left exactly as it was (same files, same tags), even when earlier steps of
 * the failing build already wrote layers.
 */
import test from 'ava';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tsbuild } from './helpers/cli.js';
import { tempDir } from './helpers/fixtures.js';
import { storeFingerprint } from './helpers/store.js';

interface Case {
  name: string;
  dockerfile?: string;
  files?: Record<string, string>;
  setup?: (ctx: string, outside: string) => Promise<void>;
  args?: (ctx: string) => string[];
  code: number;
  message: RegExp;
}

const cases: Case[] = [
  { name: 'unknown instruction', dockerfile: 'FROM scratch\n\nFOO bar\n', code: 1, message: /Dockerfile:3: unknown instruction: FOO/ },
  { name: 'no FROM', dockerfile: 'ARG X=1\nCOPY a /a\n', files: { a: 'a' }, code: 1, message: /Dockerfile:2: .*no build stage/ },
  { name: 'Dockerfile without any FROM at all', dockerfile: 'ARG X=1\n', code: 1, message: /Dockerfile:1: .*no FROM instruction/ },
  { name: 'empty Dockerfile', dockerfile: '', code: 1, message: /Dockerfile:1: the Dockerfile cannot be empty/ },
  { name: 'only comments', dockerfile: '# nothing\n# here\n', code: 1, message: /Dockerfile:1: file with no instructions/ },
  { name: 'ENV without a value', dockerfile: 'FROM scratch\nENV\n', code: 1, message: /Dockerfile:2: ENV requires at least one argument/ },
  {
    name: 'COPY source missing (after a layer was written)',
    dockerfile: 'FROM scratch\nCOPY a /a\nCOPY missing.txt /x\n',
    files: { a: 'a' },
    code: 1,
    message: /Dockerfile:3: COPY source not found: missing.txt/,
  },
  { name: 'COPY source outside the context', dockerfile: 'FROM scratch\nCOPY ../outside.txt /x\n', code: 1, message: /Dockerfile:2: COPY source \.\.\/outside\.txt is outside the build context/ },
  {
    name: 'COPY of a context symlink that points out of the context',
    dockerfile: 'FROM scratch\nCOPY a /a\nCOPY link-out /x\n',
    files: { a: 'a' },
    setup: async (ctx, outside) => symlink(join(outside, 'secret.txt'), join(ctx, 'link-out')),
    code: 1,
    message: /Dockerfile:3: COPY source not found: link-out \(it is a symlink to ".*secret\.txt", which is not inside the build context\)/,
  },
  {
    name: 'COPY of a relative symlink climbing out of the context',
    dockerfile: 'FROM scratch\nCOPY rel-out /x\n',
    setup: async (ctx) => symlink('../../outside/secret.txt', join(ctx, 'rel-out')),
    code: 1,
    message: /Dockerfile:2: COPY source not found: rel-out \(it is a symlink/,
  },
  { name: 'unknown flag', dockerfile: 'FROM scratch\nCOPY --bogus a /a\n', files: { a: 'a' }, code: 1, message: /Dockerfile:2: COPY: unknown flag: bogus/ },
  { name: 'unknown stage in --from', dockerfile: 'FROM scratch AS one\nFROM scratch\nCOPY --from=nosuchstage /a /a\n', code: 1, message: /Dockerfile:3: --from=nosuchstage: no stage named "nosuchstage"/ },
  { name: '--from a later stage', dockerfile: 'FROM scratch AS first\nCOPY --from=1 /a /a\nFROM scratch\n', args: (ctx) => ['--target', 'first', ctx], code: 1, message: /Dockerfile:2: --from=1: stage 1 is not defined before this one/ },
  { name: 'malformed --build-arg', dockerfile: 'FROM scratch\n', args: (ctx) => ['--build-arg', '=value', ctx], code: 2, message: /--build-arg "=value": expected KEY=VALUE/ },
  { name: 'unknown --target', dockerfile: 'FROM scratch AS a\n', args: (ctx) => ['--target', 'nope', ctx], code: 2, message: /--target: target stage "nope" could not be found/ },
  { name: 'missing context directory', dockerfile: 'FROM scratch\n', args: (ctx) => ['-f', join(ctx, 'Dockerfile'), join(ctx, 'no-such-dir')], code: 1, message: /build context ".*no-such-dir" is not a directory \(it does not exist\)/ },
  { name: 'unknown command-line flag', dockerfile: 'FROM scratch\n', args: (ctx) => ['--no-such-flag', ctx], code: 2, message: /Unknown argument: no-such-flag/ },
  { name: 'bad -o', dockerfile: 'FROM scratch\n', args: (ctx) => ['-o', 'type=zip,dest=x', ctx], code: 2, message: /-o type=zip,dest=x: unknown output type "zip"/ },
  { name: 'bad tag', dockerfile: 'FROM scratch\n', args: (ctx) => ['-t', 'Bad:Tag', ctx], code: 2, message: /-t Bad:Tag: .*must be lowercase/ },
  { name: 'unterminated heredoc', dockerfile: 'FROM scratch\nCOPY <<EOF /x\nhello\n', code: 1, message: /Dockerfile:2: unterminated heredoc <<EOF/ },
  { name: 'bad variable syntax', dockerfile: 'FROM scratch\nENV A=${B:?must_be_set}\n', code: 1, message: /Dockerfile:2: .*must_be_set/ },
  { name: 'COPY --chown of an unknown user', dockerfile: 'FROM scratch\nCOPY --chown=nobody a /a\n', files: { a: 'a' }, code: 1, message: /Dockerfile:2: COPY --chown: unable to find user nobody/ },
];

for (const c of cases) {
  test(`${c.name}: exit ${c.code}, names the line or flag, store unchanged`, async (t) => {
    const work = await tempDir('bad', t);
    const ctx = join(work, 'ctx');
    const outside = join(work, 'outside');
    const root = join(work, 'store');
    await mkdir(ctx);
    await mkdir(outside);
    await writeFile(join(outside, 'secret.txt'), 'secret');
    if (c.dockerfile !== undefined) await writeFile(join(ctx, 'Dockerfile'), c.dockerfile);
    for (const [n, v] of Object.entries(c.files ?? {})) await writeFile(join(ctx, n), v);
    await c.setup?.(ctx, outside);
    // A store that already holds an image: the failure must not touch it.
    await writeFile(join(work, 'Dockerfile.seed'), 'FROM scratch\nCOPY seed /seed\n');
    await writeFile(join(ctx, 'seed'), 'seed');
    const seeded = await tsbuild(['build', '-q', '-f', join(work, 'Dockerfile.seed'), '-t', 'seed', ctx], { root });
    t.is(seeded.code, 0, seeded.stderr);
    const before = await storeFingerprint(root);
    const res = await tsbuild(['build', '--progress', 'plain', '-t', 'bad:1', ...(c.args ? c.args(ctx) : [ctx])], { root, cwd: ctx });
    t.is(res.code, c.code, res.stderr);
    t.regex(res.stderr, c.message);
    t.deepEqual(await storeFingerprint(root), before, 'store unchanged');
  });
}
