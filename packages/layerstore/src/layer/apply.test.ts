/**
 * applyTar semantics: whiteouts and opaque directories in both modes, checked against
 * a real overlayfs mount of the snapshots ("overlay form mounted" must equal "layers
 * applied in order into one directory"), implied directories, options.
 */
import { lstat, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { TarError } from '../errors.js';
import { readTar } from '../tar/index.js';
import { getXattr } from '../sys/libc.js';
import { applyTar, type ApplyOptions } from './apply.js';
import { RootFs } from './rootfs.js';
import { isWhiteout } from './whiteout.js';
import { lowerUpper, tempDir } from '../testing/fstree.js';
import { bothWays, testForm } from '../testing/both-ways.js';
import { char, chunks, dir, entries, fifo, file, hardlink, MTIME, opaque, symlink, tarBytes, whiteout, type Piece } from '../testing/tarbuild.js';
import { encodeHeader } from '../tar/index.js';

const apply = (root: RootFs, pieces: Piece[], opts: Partial<ApplyOptions> = {}) => applyTar(root, entries(pieces), { whiteouts: true, ...opts });

const LOWER: Piece[] = [
  dir('a'),
  file('a/old', 'old'),
  dir('a/b'),
  file('a/b/deep', 'deep'),
  dir('d', { mode: 0o750, uid: 7 }),
  file('d/x', 'x'),
  file('d/y', 'y'),
  file('f', 'file'),
  symlink('s', 'a'),
  file('h1', 'linked'),
  hardlink('h2', 'h1'),
];

test('overlay snapshots mounted show what delete-mode application gives', async (t) => {
  const layers: Piece[][] = [
    LOWER,
    [
      // delete a file and a directory, replace a file by a directory and a directory by a file
      whiteout('d/x'),
      whiteout('a/b'),
      dir('f', { mode: 0o700 }),
      file('f/inside', 'in'),
    ],
    [
      // an opaque directory, written after a child of the same layer (applied first anyway)
      dir('a'),
      file('a/new', 'new'),
      opaque('a'),
      hardlink('a/hl', 'h1'),
      symlink('s2', '/a/new'),
      char('null', 1, 3),
    ],
    [file('s/via-link', 'through the symlink'), whiteout('h2'), file('d/z', 'z')],
  ];
  const { overlay, flat } = await bothWays(t, layers, { mtimes: true });
  t.deepEqual(overlay, flat);
  t.deepEqual(Object.keys(flat).sort(), ['a', 'a/hl', 'a/new', 'a/via-link', 'd', 'd/y', 'd/z', 'f', 'f/inside', 'h1', 'null', 's', 's2']);
});

test('a whiteout and a new entry of the same name in one layer: the new entry wins (overlay and delete)', async (t) => {
  const layers: Piece[][] = [
    LOWER,
    [whiteout('a'), whiteout('f'), whiteout('d'), dir('a', { mode: 0o711 }), file('a/fresh', 'fresh'), file('f', 'new f'), file('d/only', 'only')],
  ];
  const { overlay, flat, snapshots } = await bothWays(t, layers, { mtimes: true });
  t.deepEqual(overlay, flat);
  t.deepEqual(Object.keys(flat).sort(), ['a', 'a/fresh', 'd', 'd/only', 'f', 'h1', 'h2', 's']);
  t.is(getXattr(join(snapshots[1]!, 'a'), 'trusted.overlay.opaque')?.toString(), 'y', 'a directory over a whiteout hides what the whiteout hid');
  t.is(getXattr(join(snapshots[1]!, 'd'), 'trusted.overlay.opaque')?.toString(), 'y');
});

test('an opaque marker hides lower children at every depth, even under directories this layer touched', async (t) => {
  const layers: Piece[][] = [LOWER, [dir('a/b'), file('a/b/mine', 'mine'), file('d/new', 'n'), opaque('a'), opaque('d')]];
  const { overlay, flat } = await bothWays(t, layers, { mtimes: true });
  t.deepEqual(overlay, flat);
  t.deepEqual(Object.keys(flat).sort(), ['a', 'a/b', 'a/b/mine', 'd', 'd/new', 'f', 'h1', 'h2', 's']);
});

test('removing a directory then recreating its child does not resurrect lower content', async (t) => {
  const layers: Piece[][] = [LOWER, [whiteout('a'), file('a/b/again', 'again')]];
  const { overlay, flat } = await bothWays(t, layers, { mtimes: true });
  t.deepEqual(overlay, flat);
  t.deepEqual(Object.keys(flat).sort(), ['a', 'a/b', 'a/b/again', 'd', 'd/x', 'd/y', 'f', 'h1', 'h2', 's']);
});

test('whiteouts in overlay form (the store form) are made only for names that exist below', async (t) => {
  const { lower, upper } = await lowerUpper(t);
  const form = testForm();
  const whiteoutAt = async (rel: string) => isWhiteout(await lstat(join(upper, rel)), Buffer.from(join(upper, rel)), form.whiteout);
  await apply(new RootFs({ upper: lower }), LOWER);
  await apply(new RootFs({ upper, lowers: [lower], overlayForm: form }), [whiteout('a/old'), whiteout('nothing'), whiteout('d'), file('mine', 'm'), whiteout('mine')]);
  t.true(await whiteoutAt('a/old'));
  t.true(await whiteoutAt('d'));
  t.is((await lstat(join(upper, 'd'))).isCharacterDevice(), form.whiteout === 'device');
  await t.throwsAsync(lstat(join(upper, 'nothing')));
  t.is(await readFile(join(upper, 'mine'), 'utf8'), 'm');
  t.deepEqual((await readdir(join(lower, 'd'))).sort(), ['x', 'y'], 'the lower snapshot is untouched');
});

test('implied parents are 0755 whatever the umask; explicit modes are exact (case 36)', async (t) => {
  for (const umask of [0o022, 0o027, 0o077]) {
    const old = process.umask(umask);
    try {
      const dest = await tempDir(t);
      const layer: Piece[] = [
        file('deeply/nested/and/implied', 'x'),
        dir('explicit', { mode: 0o644 }),
        dir('explicit/permissions', { mode: 0o600 }),
        dir('explicit/permissions/umask', { mode: 0o777 }),
        file('explicit/permissions/umask/file', 'f', { mode: 0o666 }),
        { header: { name: Buffer.from('implied/dir-without-trailing-slash'), type: 'directory', mode: 0o700, uid: 0, gid: 0, size: 0, mtime: MTIME } },
        file('plain', 'p', { mode: 0o664 }),
      ];
      await apply(new RootFs({ upper: dest }), layer);
      const mode = async (p: string) => (await stat(join(dest, p))).mode & 0o7777;
      for (const d of ['deeply', 'deeply/nested', 'deeply/nested/and', 'implied']) t.is(await mode(d), 0o755, `${d} with umask ${umask.toString(8)}`);
      t.is(await mode('explicit'), 0o644);
      t.is(await mode('explicit/permissions'), 0o600);
      t.is(await mode('explicit/permissions/umask'), 0o777);
      t.is(await mode('explicit/permissions/umask/file'), 0o666);
      t.is(await mode('implied/dir-without-trailing-slash'), 0o700);
      t.is(await mode('plain'), 0o664);
    } finally {
      process.umask(old);
    }
  }
});

test('a truncated stream fails with the entry name (case 44)', async (t) => {
  const dest = await tempDir(t);
  const head = encodeHeader({ name: Buffer.from('big'), type: 'file', mode: 0o644, uid: 0, gid: 0, size: 10 * 1024 ** 3, mtime: 0 });
  const data = Buffer.concat([tarBytes([file('first', 'ok')], { end: false }), head, Buffer.alloc(1 << 20, 0x61)]);
  const err = await t.throwsAsync(applyTar(new RootFs({ upper: dest }), readTar(chunks(data, 65536)), { whiteouts: true }), { instanceOf: TarError });
  t.regex(err?.message ?? '', /unexpected EOF/);
  t.is(err?.entry, 'big');
});

test('directory times are set after all entries, file times at once', async (t) => {
  const dest = await tempDir(t);
  await apply(new RootFs({ upper: dest }), [dir('d', { mtime: 1000 }), file('d/f', 'x', { mtime: 2000 }), dir('d/e', { mtime: 3000 }), file('d/e/g', 'y')]);
  t.is((await lstat(join(dest, 'd'))).mtimeMs, 1000_000);
  t.is((await lstat(join(dest, 'd/e'))).mtimeMs, 3000_000);
  t.is((await lstat(join(dest, 'd/f'))).mtimeMs, 2000_000);
});

test('ADD archives (whiteouts: false) keep .wh. names as files; `at` and `chown` apply', async (t) => {
  const dest = await tempDir(t);
  const root = new RootFs({ upper: dest });
  await apply(root, [dir('srv')]);
  await apply(root, [file('.wh.keep', 'k'), opaque('sub'), file('/abs', 'a', { uid: 5 }), symlink('ln', '/x')], { whiteouts: false, at: [Buffer.from('srv')], chown: { uid: 1234, gid: 99 } });
  t.is(await readFile(join(dest, 'srv/.wh.keep'), 'utf8'), 'k');
  t.true((await lstat(join(dest, 'srv/sub/.wh..wh..opq'))).isFile());
  const st = await lstat(join(dest, 'srv/abs'));
  t.deepEqual([st.uid, st.gid], [1234, 99]);
  t.is((await lstat(join(dest, 'srv/ln'))).uid, 1234);
});

test('device nodes are skipped with a warning when devices are off; fifos are made', async (t) => {
  const dest = await tempDir(t);
  const warnings: string[] = [];
  await apply(new RootFs({ upper: dest }), [char('null', 1, 3), fifo('pipe')], {
    devices: false,
    onWarning: (m) => warnings.push(m),
  });
  await t.throwsAsync(lstat(join(dest, 'null')));
  t.true((await lstat(join(dest, 'pipe'))).isFIFO());
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /null/);
});

test('a hardlink to a lower-layer file copies it up once and links to the copy', async (t) => {
  const { lower, upper } = await lowerUpper(t);
  await apply(new RootFs({ upper: lower }), [file('etc/passwd', 'root', { mode: 0o640, uid: 3 })]);
  await apply(new RootFs({ upper, lowers: [lower] }), [hardlink('one', 'etc/passwd'), hardlink('two', '/etc/passwd')]);
  const [a, b, c] = await Promise.all(['etc/passwd', 'one', 'two'].map((p) => lstat(join(upper, p))));
  t.is(a!.ino, b!.ino);
  t.is(a!.ino, c!.ino);
  t.is(a!.mode & 0o7777, 0o640);
  t.is(a!.uid, 3);
  t.is((await lstat(join(lower, 'etc/passwd'))).nlink, 1, 'the lower file is not linked');
});
