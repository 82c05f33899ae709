/**
 * What RootFs remembers while a layer is applied (lower views, upper directories it
 * made or walked through, opaque marks, lower symlink targets) must be dropped as soon
 * as the path is replaced: later entries of the same layer go where a fresh lookup
 * would send them. Each layered case is checked both ways, as apply.test.ts does:
 * overlay-form snapshots seen through a real overlayfs mount, and delete-mode
 * application into one directory.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readlink, rename, symlink as symlinkFs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { getXattr } from '../sys/libc.js';
import { readTar } from '../tar/index.js';
import { applyTar } from './apply.js';
import { cleanComponents, joinComponents, type Components } from './paths.js';
import { RootFs } from './rootfs.js';
import { isWhiteout } from './whiteout.js';
import { readTree, lowerUpper, tempDir } from '../testing/fstree.js';
import { bothWays } from '../testing/both-ways.js';
import { chunks, dir, entries, file, opaque, symlink, tarBytes, whiteout, type Piece } from '../testing/tarbuild.js';

const cs = (p: string): Components => cleanComponents(p);
const str = (c: Components) => joinComponents(c).toString('latin1');
const apply = (root: RootFs, pieces: Piece[]) => applyTar(root, entries(pieces), { whiteouts: true });

const BASE: Piece[] = [dir('a'), file('a/old', 'old'), dir('b'), file('b/kept', 'kept'), dir('d'), file('d/x', 'x'), dir('d/sub'), file('d/sub/deep', 'deep')];

test('a symlink that replaces a directory walked through earlier redirects later entries', async (t) => {
  const { overlay, flat } = await bothWays(t, [BASE, [file('a/x', 'x'), symlink('a', 'b'), file('a/y', 'y')]]);
  t.deepEqual(overlay, flat);
  t.deepEqual(Object.keys(flat).sort(), ['a', 'b', 'b/kept', 'b/y', 'd', 'd/sub', 'd/sub/deep', 'd/x']);
  t.is((flat['a'] as { link?: string }).link, 'b');

  // The same within one layer and without lower layers: the directory was made by this layer.
  const one = await bothWays(t, [[dir('a'), file('a/x', 'x'), dir('c'), symlink('a', '/c'), file('a/y', 'y'), file('a/z/deeper', 'z')]]);
  t.deepEqual(one.overlay, one.flat);
  t.deepEqual(Object.keys(one.flat).sort(), ['a', 'c', 'c/y', 'c/z', 'c/z/deeper']);
});

test('a whiteout of a directory walked through earlier hides it from later entries', async (t) => {
  const { overlay, flat, snapshots } = await bothWays(t, [BASE, [file('d/sub/mine', 'mine'), whiteout('d'), file('d/sub/again', 'again')]]);
  t.deepEqual(overlay, flat);
  t.deepEqual(Object.keys(flat).sort(), ['a', 'a/old', 'b', 'b/kept', 'd', 'd/sub', 'd/sub/again']);
  t.is(getXattr(join(snapshots[1]!, 'd'), 'trusted.overlay.opaque')?.toString(), 'y', 'made again over its whiteout: opaque');
});

test('a directory replaced by a file and then made again is a new, empty directory', async (t) => {
  const { overlay, flat } = await bothWays(t, [[dir('a'), file('a/x', 'x'), dir('a/sub'), file('a', 'now a file'), dir('a'), file('a/sub/y', 'y')]]);
  t.deepEqual(overlay, flat);
  t.deepEqual(Object.keys(flat).sort(), ['a', 'a/sub', 'a/sub/y']);
});

// A file of this layer replaced a lower directory, then a directory replaces the file:
// the new directory is opaque, so the lower directory's children stay hidden.
test('a directory replacing a file that replaced a lower directory hides the lower children', async (t) => {
  const { overlay, flat } = await bothWays(t, [BASE, [file('a/x', 'x'), file('a', 'now a file'), dir('a'), file('a/y', 'y')]]);
  t.deepEqual(overlay, flat);
});

test('a lower symlink replaced in this layer is not followed any more', async (t) => {
  const lower = [dir('usr'), dir('usr/lib'), dir('usr/lib64'), symlink('lib', 'usr/lib')];
  const { overlay, flat } = await bothWays(t, [lower, [file('lib/a', 'a'), symlink('lib', 'usr/lib64'), file('lib/c', 'c'), dir('lib'), file('lib/d', 'd')]]);
  t.deepEqual(overlay, flat);
  t.deepEqual(Object.keys(flat).sort(), ['lib', 'lib/d', 'usr', 'usr/lib', 'usr/lib/a', 'usr/lib64', 'usr/lib64/c']);
});

test('an opaque marker in delete mode removes remembered directories; later entries make them again', async (t) => {
  const dest = await tempDir(t);
  const root = new RootFs({ upper: dest, whiteouts: 'delete' });
  await apply(root, [dir('a'), dir('a/b'), file('a/b/f', 'f')]);
  await apply(root, [opaque('a'), file('a/b/g', 'g')]);
  t.deepEqual(Object.keys(await readTree(dest)).sort(), ['', 'a', 'a/b', 'a/b/g']);
});

test('RootFs calls: a removed directory is not walked through, and made again opaque', async (t) => {
  const { lower, upper } = await lowerUpper(t);
  await mkdir(join(lower, 'd/sub'), { recursive: true });
  await writeFile(join(lower, 'd/x'), 'x');
  const root = new RootFs({ upper, lowers: [lower] });
  await root.ensureDir(cs('d/sub/new'));
  t.is((await root.lookup(cs('d/x')))?.layer, 1);
  await root.remove(cs('d'));
  t.true(isWhiteout(await lstat(join(upper, 'd'))));
  t.is(await root.lookup(cs('d')), undefined);
  t.is(await root.lookup(cs('d/sub')), undefined);
  t.is(await root.lookup(cs('d/sub/new')), undefined);
  t.deepEqual(await root.readdir([]), []);
  t.is(str(await root.resolve('/d/sub/../sub/new', { followFinal: true })), 'd/sub/new');
  await root.ensureDir(cs('d/sub'));
  t.is(getXattr(join(upper, 'd'), 'trusted.overlay.opaque')?.toString(), 'y');
  t.is(await root.lookup(cs('d/x')), undefined);
  t.deepEqual((await root.readdir(cs('d'))).map(String), ['sub']);
  t.deepEqual(await root.readdir(cs('d/sub')), []);
});

test('RootFs calls: a remembered directory replaced through prepareCreate is resolved afresh', async (t) => {
  const dest = await tempDir(t);
  const root = new RootFs({ upper: dest });
  await root.ensureDir(cs('a/b'));
  await root.ensureDir(cs('c/b'));
  t.is(str(await root.resolve('/a/b', { followFinal: true })), 'a/b');
  const { host } = await root.prepareCreate(cs('a'), false);
  await symlinkFs('/c', host);
  t.is(str(await root.resolve('/a/b', { followFinal: true })), 'c/b');
  t.is(await root.lookup(cs('a/b')), undefined, 'a lookup does not follow the new symlink');
  t.is((await root.ensureDir(cs('a/b')).catch((err: Error) => err.message)), 'a: not a directory');
});

test('a RootFs that has not written trusts nothing about its upper dir (a build context can change between steps)', async (t) => {
  const dir0 = await tempDir(t);
  await mkdir(join(dir0, 'a/b'), { recursive: true });
  await mkdir(join(dir0, 'c/b'), { recursive: true });
  await writeFile(join(dir0, 'a/b/f'), 'in a');
  await writeFile(join(dir0, 'c/b/f'), 'in c');
  const root = new RootFs({ upper: dir0 });
  const before = await root.lookup(await root.resolve('/a/b/f', { followFinal: true }));
  t.is(await readFile(before!.host, 'utf8'), 'in a');
  await rename(join(dir0, 'a'), join(dir0, 'old-a'));
  await symlinkFs('c', join(dir0, 'a'));
  t.is(str(await root.resolve('/a/b/f', { followFinal: true })), 'c/b/f');
  t.is(await root.lookup(cs('a/b/f')), undefined, 'not through the new host symlink');
  t.is(await readlink(join(dir0, 'a')), 'c');
});

test('file bodies of any size are written whole, in the pieces they arrive in', async (t) => {
  const dest = await tempDir(t);
  const sizes = [0, 1, 511, 65536, (1 << 20) - 1, 1 << 20, 3 * (1 << 20) + 17];
  const bodies = sizes.map((n, i) => Buffer.alloc(n, String.fromCharCode(97 + i)).fill(i, 0, Math.min(n, 7)));
  const pieces = bodies.map((b, i) => file(`f${i}`, b));
  for (const size of [1000, 65536, 1 << 22]) {
    const root = new RootFs({ upper: join(dest, String(size)) });
    await mkdir(root.upper);
    await applyTar(root, readTar(chunks(tarBytes(pieces), size)), { whiteouts: true });
    for (const [i, b] of bodies.entries()) {
      const got = await readFile(join(dest, String(size), `f${i}`));
      t.is(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(b).digest('hex'), `f${i} (${b.length} bytes) in pieces of ${size}`);
    }
  }
});
