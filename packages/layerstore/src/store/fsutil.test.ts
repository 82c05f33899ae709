/** fileChunks: file contents in buffers sized to what is left, never a whole 1 MiB for a small file. */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { tempDir } from '../testing/fstree.js';
import { fileChunks } from './fsutil.js';

async function collect(path: string, size: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of fileChunks(path, size)) out.push(c);
  return out;
}

test('chunks are at most 1 MiB, the last one just what is left, and the bytes are the file', async (t) => {
  const dir = await tempDir(t);
  const data = randomBytes(2.5 * 1024 * 1024);
  await writeFile(join(dir, 'big'), data);
  const chunks = await collect(join(dir, 'big'), data.length);
  t.deepEqual(chunks.map((c) => c.length), [1 << 20, 1 << 20, 512 * 1024]);
  t.true(Buffer.concat(chunks).equals(data));
});

test('a small file is one chunk of its own size; an empty one none', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'small'), 'hello');
  await writeFile(join(dir, 'empty'), '');
  t.deepEqual((await collect(join(dir, 'small'), 5)).map((c) => c.toString()), ['hello']);
  t.deepEqual(await collect(join(dir, 'empty'), 0), []);
});

test('a file shorter than asked ends early; a longer one is read only up to the size asked', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'f'), 'abcdef');
  t.is(Buffer.concat(await collect(join(dir, 'f'), 10)).toString(), 'abcdef');
  t.is(Buffer.concat(await collect(join(dir, 'f'), 3)).toString(), 'abc');
});
