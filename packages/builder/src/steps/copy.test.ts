/**
 * COPY and ADD without a sandbox: what lands in the new layer (read from its snapshot),
 * ADD's archives recognised by content, and located errors for what is missing.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scratchContext } from '../testing/recorded-build.js';

/** Build `dockerfile` over a context made by `fill`; the top layer's snapshot directory. */
async function topLayer(t: { teardown(fn: () => Promise<void>): void }, dockerfile: string, fill: (dir: string) => Promise<void>): Promise<string> {
  const scratch = await scratchContext(t, 'builder-copy-');
  await fill(scratch.context);
  return (await scratch.build(dockerfile)).top;
}

test('COPY of a directory copies its contents; wildcards and several sources go into a directory ending in /', async (t) => {
  const top = await topLayer(t, 'FROM scratch\nCOPY src /app/\nCOPY *.txt one.md /docs/\n', async (ctx) => {
    await mkdir(join(ctx, 'src', 'lib'), { recursive: true });
    await writeFile(join(ctx, 'src', 'lib', 'a.js'), 'a');
    await writeFile(join(ctx, 'x.txt'), 'x');
    await writeFile(join(ctx, 'y.txt'), 'y');
    await writeFile(join(ctx, 'one.md'), '1');
  });
  t.deepEqual((await readdir(join(top, 'docs'))).sort(), ['one.md', 'x.txt', 'y.txt']);
  const below = await topLayer(t, 'FROM scratch\nCOPY src /app/\n', async (ctx) => {
    await mkdir(join(ctx, 'src', 'lib'), { recursive: true });
    await writeFile(join(ctx, 'src', 'lib', 'a.js'), 'a');
  });
  t.is(await readFile(join(below, 'app', 'lib', 'a.js'), 'utf8'), 'a', 'the directory\'s contents, not the directory');
});

test('ADD unpacks a local archive recognised by its content, whatever its name; COPY does not', async (t) => {
  const make = async (ctx: string) => {
    await mkdir(join(ctx, 'tree'));
    await writeFile(join(ctx, 'tree', 'inside.txt'), 'unpacked');
    execFileSync('tar', ['-czf', join(ctx, 'archive.bin'), '-C', join(ctx, 'tree'), 'inside.txt']);
  };
  const added = await topLayer(t, 'FROM scratch\nADD archive.bin /out/\n', make);
  t.is(await readFile(join(added, 'out', 'inside.txt'), 'utf8'), 'unpacked');
  const copied = await topLayer(t, 'FROM scratch\nCOPY archive.bin /out/\n', make);
  t.deepEqual(await readdir(join(copied, 'out')), ['archive.bin']);
});

test('a missing source, or several sources into a destination without a trailing /, is an error naming the line', async (t) => {
  for (const [df, message] of [
    ['FROM scratch\nCOPY nope /x\n', /Dockerfile:2: COPY source not found: nope/],
    ['FROM scratch\nCOPY a b /dest\n', /Dockerfile:2: When using COPY with more than one source file, the destination must be a directory and end with a \//],
  ] as const) {
    const err = await t.throwsAsync(topLayer(t, df, async (ctx) => {
      await writeFile(join(ctx, 'a'), 'a');
      await writeFile(join(ctx, 'b'), 'b');
    }));
    t.regex(String(err), message);
  }
});
