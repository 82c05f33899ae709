/**
 * RootFs: overlay lookup rules (checked against a real overlayfs mount), chroot-style
 * resolution (continuity's TestRootPath table), copy-up, removal and creation.
 */
import { lstat, mkdir, readFile, readlink, symlink, utimes, writeFile, chown, chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import test from 'ava';
import { LayerstoreError, TarError } from '../errors.js';
import { getXattr, mknod, S_IFCHR, setXattr } from '../sys/libc.js';
import { cleanComponents, joinComponents, type Components } from './paths.js';
import { RootFs } from './rootfs.js';
import { isWhiteout } from './whiteout.js';
import { lowerUpper, nodeOf, readTree, tempDir, withOverlay, type Node } from '../testing/fstree.js';
import { testForm } from '../testing/both-ways.js';

const cs = (p: string): Components => cleanComponents(p);
const str = (c: Components) => joinComponents(c).toString('latin1');

/** Make a tree from a compact spec: 'd/' dir, 'f=content' file, 'l->target' symlink, 'w!' whiteout. */
async function build(root: string, spec: string[]): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const item of spec) {
    const [name, rest] = item.includes('->') ? item.split('->') : item.includes('=') ? item.split('=') : [item, undefined];
    const path = join(root, name!.replace(/[/!]$/, ''));
    await mkdir(dirname(path), { recursive: true });
    if (item.includes('->')) await symlink(rest!, path);
    else if (item.includes('=')) await writeFile(path, rest!);
    else if (item.endsWith('!')) mknod(path, S_IFCHR, 0n);
    else await mkdir(path, { recursive: true });
  }
}

const opaqueDir = async (path: string) => {
  await mkdir(path, { recursive: true });
  setXattr(path, 'trusted.overlay.opaque', Buffer.from('y'));
};

/** The merged view as RootFs computes it, in readTree's form (no times, no hardlink groups). */
async function viewOf(root: RootFs): Promise<Record<string, Node>> {
  const out: Record<string, Node> = {};
  async function walk(dir: Components): Promise<void> {
    for (const name of await root.readdir(dir)) {
      const child = [...dir, name];
      const e = await root.lookup(child);
      if (!e) throw new Error(`${str(child)} listed but not found`);
      out[str(child)] = await nodeOf(e.host);
      if (e.stat.isDirectory()) await walk(child);
    }
  }
  await walk([]);
  return out;
}

function withoutLinks(tree: Record<string, Node>): Record<string, Node> {
  const out: Record<string, Node> = {};
  for (const [k, v] of Object.entries(tree)) {
    if (k === '') continue;
    const { links: _links, ...rest } = v;
    out[k] = rest;
  }
  return out;
}

test('lookup and readdir follow overlayfs: whiteouts hide, opaque hides lower children, dirs merge, non-dirs hide', async (t) => {
  const base = await tempDir(t);
  const [lower1, lower2, upper] = ['lower1', 'lower2', 'upper'].map((d) => join(base, d)) as [string, string, string];
  await build(lower2, ['d/a=a2', 'd/b=b2', 'd/sub/c=c2', 'f=f2', 'x/y=y2', 'o/hidden=h2', 'keepdir/k=k2', 's->d', 'n=n2', 'gone/deep=g2']);
  await build(lower1, ['d/b!', 'd/new=new1', 'x=x1', 'o/mine=m1', 'n/child=c1', 'gone!']);
  await opaqueDir(join(lower1, 'o'));
  await build(upper, ['d/up=up', 'f!', 's2->/d/sub', 'gone/again=again']);
  await opaqueDir(join(upper, 'keepdir'));
  await opaqueDir(join(upper, 'gone'));
  await build(join(base, 'empty'), []);

  const root = new RootFs({ upper, lowers: [lower1, lower2] });
  t.is(await root.lookup(cs('f')), undefined, 'whiteout in the upper');
  t.is(await root.lookup(cs('d/b')), undefined, 'whiteout in a lower');
  t.is((await root.lookup(cs('d/a')))?.layer, 2);
  t.is((await root.lookup(cs('d/up')))?.layer, 0);
  t.true((await root.lookup(cs('x')))?.stat.isFile(), 'a file hides the directory below');
  t.is(await root.lookup(cs('x/y')), undefined);
  t.is(await root.lookup(cs('o/hidden')), undefined, 'opaque lower dir');
  t.is(await root.lookup(cs('keepdir/k')), undefined, 'opaque upper dir');
  t.is(await root.lookup(cs('gone/deep')), undefined);
  t.deepEqual((await root.readdir(cs('d'))).map(String), ['a', 'new', 'sub', 'up']);
  t.deepEqual((await root.readdir([])).map(String), ['d', 'gone', 'keepdir', 'n', 'o', 's', 's2', 'x']);
  t.deepEqual(await root.readdir(cs('keepdir')), []);

  const ours = await viewOf(root);
  const kernel = await withOverlay({ lowers: [lower1, lower2], upper, work: join(base, 'work'), merged: join(base, 'merged') }, (m) => readTree(m));
  t.deepEqual(ours, withoutLinks(kernel));
});

test('readdir sorts bytewise and keeps non-UTF-8 names apart', async (t) => {
  const { lower, upper } = await lowerUpper(t);
  const names = ['b', 'a', '\xff\xfe', '\xff\xfd', 'B'].map((n) => Buffer.from(n, 'latin1'));
  for (const [i, n] of names.entries()) await writeFile(Buffer.concat([Buffer.from(i % 2 ? `${upper}/` : `${lower}/`), n]), String(i));
  mknod(Buffer.concat([Buffer.from(`${upper}/`), names[0]!]), S_IFCHR, 0n);
  const root = new RootFs({ upper, lowers: [lower] });
  t.deepEqual(
    (await root.readdir([])).map((n) => n.toString('latin1')),
    ['B', 'a', '\xff\xfd', '\xff\xfe'],
  );
});

/** continuity fs/path_test.go TestRootPath: [target, link] pairs, checks [unresolved, expected, scope?]. */
const ROOT_PATH: Array<{ name: string; dirs?: string[]; links: Array<[string, string]>; checks?: Array<[string, string, string?]>; error?: [string, string] }> = [
  { name: 'SymlinkAbsolute', links: [['/b', 'fs/a/d']], checks: [['fs/a/d/c/data', 'b/c/data']] },
  { name: 'SymlinkRelativePath', links: [['a', 'fs/i']], checks: [['fs/i', 'fs/a']] },
  { name: 'SymlinkSkipSymlinksOutsideScope', links: [['realdir', 'linkdir']], checks: [['foo/bar', 'foo/bar', 'linkdir']] },
  { name: 'SymlinkLastLink', links: [['/b', 'fs/a/d']], checks: [['fs/a/d', 'b']] },
  { name: 'SymlinkRelativeLinkChangeScope', links: [['../b', 'fs/a/e']], checks: [['fs/a/e/c/data', 'fs/b/c/data'], ['e', 'b', 'fs/a']] },
  { name: 'SymlinkDeepRelativeLinkChangeScope', links: [['../../../../test', 'fs/a/f']], checks: [['fs/a/f', 'test'], ['a/f', 'test', 'fs']] },
  { name: 'SymlinkRelativeLinkChain', links: [['../g', 'fs/b/h'], ['../../../../../../../../../../../../root', 'fs/g']], checks: [['fs/b/h', 'root']] },
  { name: 'SymlinkBreakoutPath', links: [['../i/a', 'fs/j/k']], checks: [['k', 'i/a', 'fs/j']] },
  { name: 'SymlinkToRoot', links: [['/', 'foo']], checks: [['foo', '']] },
  { name: 'SymlinkSlashDotdot', links: [['/../../', 'foo']], checks: [['foo', '']] },
  { name: 'SymlinkDotdot', links: [['../../', 'foo']], checks: [['foo', '']] },
  { name: 'SymlinkRelativePath2', links: [['baz/target', 'bar/foo']], checks: [['bar/foo', 'bar/baz/target']] },
  { name: 'SymlinkScopeLink', links: [['root2', 'root'], ['../bar', 'root2/foo']], checks: [['foo', 'bar', 'root']] },
  { name: 'SymlinkSelf', links: [['foo', 'root/foo']], error: ['foo', 'root'] },
  { name: 'SymlinkCircular', links: [['foo', 'bar'], ['bar', 'foo']], error: ['foo', ''] },
  { name: 'SymlinkCircularUnderRoot', links: [['baz', 'root/bar'], ['../bak', 'root/baz'], ['/bar', 'root/bak']], error: ['bar', 'root'] },
  {
    name: 'SymlinkComplexChain',
    dirs: ['root2'],
    links: [['root2', 'root'], ['r/s', 'root/a'], ['../root/t', 'root/r'], ['/../u', 'root/root/t/s/b'], ['.', 'root/u/c'], ['../v', 'root/u/x/y'], ['/../w', 'root/u/v']],
    checks: [['a/b/c/x/y/z', 'w/z', 'root']],
  },
  { name: 'SymlinkBreakoutNonExistent', links: [['/', 'root/slash'], ['/idontexist/../slash', 'root/sym']], checks: [['sym/file', 'file', 'root']] },
  { name: 'SymlinkNoLexicalCleaning', links: [['/foo/bar', 'root/sym'], ['/sym/../baz', 'root/hello']], checks: [['hello', 'foo/baz', 'root']] },
];

for (const c of ROOT_PATH) {
  for (const where of ['upper', 'lower'] as const) {
    test(`resolve (TestRootPath ${c.name}, symlinks in the ${where})`, async (t) => {
      const dir = await tempDir(t);
      for (const d of c.dirs ?? []) await mkdir(join(dir, d), { recursive: true });
      for (const [target, link] of c.links) {
        await mkdir(join(dir, dirname(link)), { recursive: true });
        await symlink(target, join(dir, link));
      }
      const empty = join(await tempDir(t), 'upper');
      await mkdir(empty);
      const fs = (scope: string) => (where === 'upper' ? new RootFs({ upper: join(dir, scope) }) : new RootFs({ upper: empty, lowers: [join(dir, scope)] }));
      for (const [unresolved, expected, scope] of c.checks ?? []) {
        t.is(str(await fs(scope ?? '').resolve(`/${unresolved}`, { followFinal: true })), expected, unresolved);
      }
      if (c.error) {
        const err = await t.throwsAsync(fs(c.error[1]).resolve(`/${c.error[0]}`, { followFinal: true }), { instanceOf: LayerstoreError });
        t.is(err?.code, 'TSBUILD_LAYER_UNSAFE');
        t.regex(err?.message ?? '', /too many levels of symbolic links/);
      }
    });
  }
}

test('resolve: .. stops at the root, relative paths use cwd, the last link is kept unless followFinal', async (t) => {
  const dir = await tempDir(t);
  await build(dir, ['a/b/c/', 'l->a/b', 'abs->/a']);
  const root = new RootFs({ upper: dir });
  t.is(str(await root.resolve('/../../../a/../../a/b')), 'a/b');
  t.is(str(await root.resolve('c/../../x', { cwd: cs('a/b') })), 'a/x');
  t.is(str(await root.resolve('../../../../etc', { cwd: cs('a/b') })), 'etc');
  t.is(str(await root.resolve('/l')), 'l');
  t.is(str(await root.resolve('/l', { followFinal: true })), 'a/b');
  t.is(str(await root.resolve('/l/c')), 'a/b/c');
  t.is(str(await root.resolve('/abs/b/..')), 'a');
  t.is(str(await root.resolve('l/../..', { cwd: [] })), '', '.. after a link climbs from its target');
});

test('resolve follows at most 255 links', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'end'));
  for (let i = 0; i < 256; i++) await symlink(i === 255 ? 'end' : `l${i + 1}`, join(dir, `l${i}`));
  const root = new RootFs({ upper: dir });
  t.is(str(await root.resolve('/l1', { followFinal: true })), 'end', '255 links');
  await t.throwsAsync(root.resolve('/l0', { followFinal: true }), { message: /too many levels/ });
});

test('ensureDir copies up directories with mode, owner, times and xattrs, but not overlay xattrs', async (t) => {
  const { lower, upper } = await lowerUpper(t);
  await mkdir(join(lower, 'a/b'), { recursive: true });
  await chown(join(lower, 'a'), 1000, 1001);
  await chmod(join(lower, 'a'), 0o2750);
  setXattr(join(lower, 'a'), 'user.tag', Buffer.from('v'));
  setXattr(join(lower, 'a'), 'trusted.overlay.opaque', Buffer.from('y'));
  await utimes(join(lower, 'a'), 1_000_000, 1_234_567);
  const root = new RootFs({ upper, lowers: [lower] });
  await root.ensureDir(cs('a'));
  t.is((await lstat(join(upper, 'a'))).mtimeMs, 1_234_567_000);
  const host = await root.ensureDir(cs('a/b/new'), { mode: 0o700, uid: 5, gid: 6 });
  t.is(host.toString(), join(upper, 'a/b/new'));
  const a = await lstat(join(upper, 'a'));
  t.is(a.mode & 0o7777, 0o2750);
  t.deepEqual([a.uid, a.gid], [1000, 1001]);
  t.deepEqual(getXattr(join(upper, 'a'), 'user.tag'), Buffer.from('v'));
  t.is(getXattr(join(upper, 'a'), 'trusted.overlay.opaque'), undefined);
  const n = await lstat(join(upper, 'a/b/new'));
  t.is(n.mode & 0o7777, 0o700);
  t.deepEqual([n.uid, n.gid], [5, 6]);
  t.deepEqual((await root.readdir(cs('a/b'))).map(String), ['new']);
  await writeFile(join(lower, 'file'), 'x');
  const err = await t.throwsAsync(new RootFs({ upper, lowers: [lower] }).ensureDir(cs('file/sub')), { instanceOf: LayerstoreError });
  t.regex(err?.message ?? '', /not a directory/);
});

test('remove writes a whiteout only in overlay mode and only over lower entries', async (t) => {
  const { base, lower, upper } = await lowerUpper(t);
  await build(lower, ['d/x=x', 'f=f']);
  await build(upper, ['mine=m', 'd/up=u']);
  const form = testForm();
  const root = new RootFs({ upper, lowers: [lower], overlayForm: form });
  t.is(root.whiteoutMode, 'overlay');
  await root.remove(cs('f'));
  await root.remove(cs('mine'));
  await root.remove(cs('d'));
  for (const rel of ['f', 'd']) t.true(isWhiteout(await lstat(join(upper, rel)), Buffer.from(join(upper, rel)), form.whiteout));
  await t.throwsAsync(lstat(join(upper, 'mine')));
  t.deepEqual(await root.readdir([]), []);
  t.true((await lstat(join(lower, 'd/x'))).isFile(), 'lower untouched');

  const flat = join(base, 'flat');
  await build(flat, ['d/x=x', 'f=f']);
  const del = new RootFs({ upper: flat });
  t.is(del.whiteoutMode, 'delete');
  await del.remove(cs('d'));
  await del.remove(cs('f'));
  t.deepEqual(Object.keys(await readTree(flat)), ['']);
  await t.throwsAsync(del.remove([]), { instanceOf: TarError });
});

test('prepareCreate replaces non-directories, merges directories, and refuses to replace the root', async (t) => {
  const { lower, upper } = await lowerUpper(t);
  await build(lower, ['d/x=x', 'f=f', 'l->d', 'e/y=y']);
  const root = new RootFs({ upper, lowers: [lower] });

  const d = await root.prepareCreate(cs('d'), true);
  t.true(d.existingDir);
  t.true((await lstat(join(upper, 'd'))).isDirectory(), 'copied up for its new attributes');
  t.deepEqual((await root.readdir(cs('d'))).map(String), ['x'], 'merged');

  const f = await root.prepareCreate(cs('f'), true);
  t.false(f.existingDir, 'a directory entry over a file replaces it');
  await t.throwsAsync(lstat(join(upper, 'f')), undefined, 'no whiteout: the caller creates at once');

  const l = await root.prepareCreate(cs('l'), true);
  t.false(l.existingDir, 'a directory entry over a symlink replaces the symlink');

  const e = await root.prepareCreate(cs('e'), false);
  t.false(e.existingDir);
  await writeFile(e.host, 'now a file');
  t.true((await root.lookup(cs('e')))?.stat.isFile());
  t.is(await root.lookup(cs('e/y')), undefined, 'a file in the upper hides the lower directory');

  t.deepEqual(await root.prepareCreate([], true), { host: root.upper, existingDir: true });
  await t.throwsAsync(root.prepareCreate([], false), { instanceOf: TarError });
});

test('a directory made again where a whiteout was is opaque; a file just replaces the whiteout', async (t) => {
  const { lower, upper } = await lowerUpper(t);
  await build(lower, ['d/x=x', 'f=f']);
  const root = new RootFs({ upper, lowers: [lower] });
  await root.remove(cs('d'));
  await root.remove(cs('f'));
  const d = await root.prepareCreate(cs('d'), true);
  t.true(d.existingDir);
  t.is(getXattr(join(upper, 'd'), 'trusted.overlay.opaque')?.toString(), 'y');
  t.deepEqual(await root.readdir(cs('d')), []);
  const f = await root.prepareCreate(cs('f'), false);
  await writeFile(f.host, 'new', { flag: 'wx' });
  t.is(await readFile(join(upper, 'f'), 'utf8'), 'new');
});

test('forgetting a removed directory forgets what was cached about its children', async (t) => {
  const { lower, upper } = await lowerUpper(t);
  await build(lower, ['a/b/old=old']);
  const root = new RootFs({ upper, lowers: [lower] });
  await root.makeOpaque(cs('a/b'));
  t.is(await root.lookup(cs('a/b/old')), undefined);
  await root.remove(cs('a'), { keepWhiteout: false });
  await root.ensureDir(cs('a/b'));
  t.is(getXattr(join(upper, 'a/b'), 'trusted.overlay.opaque'), undefined);
  t.is((await root.lookup(cs('a/b/old')))?.layer, 1, 'the new a/b is not opaque');
  t.deepEqual((await root.readdir(cs('a/b'))).map(String), ['old']);
});

test('copyUp copies files and symlinks with their metadata, and refuses directories', async (t) => {
  const { lower, upper } = await lowerUpper(t);
  await build(lower, ['etc/f=data', 'etc/l->f', 'dir/']);
  await chown(join(lower, 'etc/f'), 3, 4);
  await chmod(join(lower, 'etc/f'), 0o4711);
  const root = new RootFs({ upper, lowers: [lower] });
  const f = await root.copyUp(cs('etc/f'));
  const st = await lstat(f);
  t.is(st.mode & 0o7777, 0o4711);
  t.deepEqual([st.uid, st.gid], [3, 4]);
  t.is(await readFile(f, 'utf8'), 'data');
  t.is(await readlink(await root.copyUp(cs('etc/l'))), 'f');
  t.is((await root.copyUp(cs('etc/f'))).toString(), f.toString(), 'already up');
  await t.throwsAsync(root.copyUp(cs('dir')), { instanceOf: LayerstoreError, message: /cannot copy up/ });
  await t.throwsAsync(root.copyUp(cs('missing')), { message: /no such file/ });
});
