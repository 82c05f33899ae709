/**
 * diffEntries: an overlayfs upper dir made by the kernel (changes done through a real
 * mount) becomes a layer that, applied onto the lower in delete mode, gives exactly
 * what the mount showed (renames, opaque dirs, hardlinks, xattrs).
 */
import { execFile } from 'node:child_process';
import { chmod, chown, link, mkdir, rm, symlink, writeFile, lutimes } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { mknod, S_IFCHR, S_IFIFO, setXattr } from '../sys/libc.js';
import { readTar, writeTar, type TarHeader } from '../tar/index.js';
import { collect } from '../tar/test-helpers.js';
import { applyTar } from './apply.js';
import { diffEntries } from './diff.js';
import { RootFs } from './rootfs.js';
import { mountsUnder, readTree, tempDir, withOverlay } from '../testing/fstree.js';
import { chunks, dir, entries, file, hardlink, type Piece } from '../testing/tarbuild.js';

const run = promisify(execFile);

async function layerOf(upper: string, opts: Parameters<typeof diffEntries>[1] = {}): Promise<Buffer> {
  return collect(writeTar(diffEntries(upper, opts)));
}

async function headers(tar: Buffer): Promise<TarHeader[]> {
  const out: TarHeader[] = [];
  for await (const { header } of readTar(chunks(tar))) out.push(header);
  return out;
}

const LOWER: Piece[] = [
  dir('etc'),
  file('etc/motd', 'welcome'),
  file('etc/keep', 'keep'),
  dir('usr/share/doc/a'),
  file('usr/share/doc/a/readme', 'readme'),
  file('usr/share/doc/b', 'b'),
  file('bin/tool', 'tool', { mode: 0o755 }),
  file('bin/chmodme', 'c', { mode: 0o644 }),
  file('data/x', 'x'),
  file('data2/sub/f', 'f'),
  file('lh1', 'linked'),
  hardlink('lh2', 'lh1'),
  file('own/file', 'o'),
];

const BAD = Buffer.from('\xff-dir', 'latin1');

test('round trip: overlay mount changes -> upper dir -> layer -> applied onto the lower = what the mount showed', async (t) => {
  const base = await tempDir(t);
  const [lower, upper, work, merged, flat] = ['lower', 'upper', 'work', 'merged', 'flat'].map((d) => join(base, d)) as [string, string, string, string, string];
  await mkdir(lower);
  await applyTar(new RootFs({ upper: lower }), entries(LOWER), { whiteouts: true });
  await run('cp', ['-a', `${lower}/.`, flat]);

  const expected = await withOverlay({ lowers: [lower], upper, work, merged }, async (m) => {
    await rm(join(m, 'etc/motd'));
    await rm(join(m, 'usr/share/doc'), { recursive: true });
    await mkdir(join(m, 'usr/share/doc'));
    await writeFile(join(m, 'usr/share/doc/new'), 'new doc');
    await chmod(join(m, 'bin/chmodme'), 0o600);
    await link(join(m, 'data/x'), join(m, 'data/x-link'));
    await writeFile(join(m, 'n1'), 'hard');
    await link(join(m, 'n1'), join(m, 'n2'));
    await writeFile(join(m, 'bin/suid'), 'suid');
    await chown(join(m, 'bin/suid'), 0, 0);
    await chmod(join(m, 'bin/suid'), 0o4755);
    await symlink('../etc/keep', join(m, 'link'));
    await lutimes(join(m, 'link'), 1_600_000_000, 1_600_000_000);
    mknod(join(m, 'fifo'), S_IFIFO | 0o640);
    mknod(join(m, 'null2'), S_IFCHR | 0o666, 259n);
    await run('setcap', ['cap_net_raw+ep', join(m, 'bin/tool')]);
    await mkdir(join(m, 'newdir'));
    setXattr(join(m, 'newdir'), 'user.note', Buffer.from('hello'));
    await mkdir(Buffer.concat([Buffer.from(`${m}/`), BAD]));
    await writeFile(Buffer.concat([Buffer.from(`${m}/`), BAD, Buffer.from('/\xfe', 'latin1')]), 'bytes');
    await rm(join(m, 'data2'), { recursive: true });
    await chown(join(m, 'own/file'), 1000, 1000);
    return readTree(m, { mtimes: true });
  });
  t.deepEqual(await mountsUnder(base), [], 'no mount left');

  const tar = await layerOf(upper);
  const hs = await headers(tar);
  const names = hs.map((h) => h.name.toString('latin1'));
  const find = (n: string) => hs.find((h) => h.name.toString('latin1') === n);
  t.true(names.includes('etc/.wh.motd'));
  t.true(names.includes('.wh.data2'));
  t.is(names[names.indexOf('usr/share/doc/') + 1], 'usr/share/doc/.wh..wh..opq', 'the opaque marker comes right after its directory');
  t.false(names.some((n) => n.startsWith('usr/share/doc/a')), 'nothing of the replaced directory');
  t.is(find('data/x')?.type, 'file');
  t.deepEqual([find('data/x-link')?.type, find('data/x-link')?.linkname?.toString()], ['link', 'data/x']);
  t.deepEqual([find('n2')?.type, find('n2')?.linkname?.toString()], ['link', 'n1']);
  t.is(find('bin/suid')?.mode, 0o4755);
  t.true(find('bin/tool')?.xattrs?.has('security.capability'));
  t.deepEqual(find('newdir/')?.xattrs?.get('user.note'), Buffer.from('hello'));
  t.is(find('fifo')?.type, 'fifo');
  t.deepEqual([find('null2')?.type, find('null2')?.devmajor, find('null2')?.devminor], ['char', 1, 3]);
  t.is(find('link')?.linkname?.toString(), '../etc/keep');
  t.is(find('etc/.wh.motd')?.mtime, 0);
  t.true(names.includes('\xff-dir/\xfe'));
  t.false(names.some((n) => n.includes('overlay')));
  t.false(hs.some((h) => [...(h.xattrs?.keys() ?? [])].some((k) => k.startsWith('trusted.overlay.'))));

  await applyTar(new RootFs({ upper: flat }), readTar(chunks(tar)), { whiteouts: true });
  const got = await readTree(flat, { mtimes: true });
  delete got[''];
  delete expected[''];
  t.deepEqual(got, expected);
});

test('output is deterministic, sorted bytewise, clamps times to SOURCE_DATE_EPOCH, skips sockets', async (t) => {
  const upper = await tempDir(t);
  await mkdir(join(upper, 'b/c'), { recursive: true });
  await writeFile(join(upper, 'b/c/z'), 'z');
  await writeFile(join(upper, 'B'), 'B');
  await writeFile(join(upper, 'a'), 'a');
  await lutimes(join(upper, 'a'), 1000, 1000);
  mknod(join(upper, 'gone'), S_IFCHR, 0n);
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(upper, 'sock'), resolve));
  t.teardown(() => server.close());
  setXattr(join(upper, 'b'), 'user.overlay.opaque', Buffer.from('y'));

  // A rootless store's form (user.overlay.opaque); a root store's does not read it.
  const one = await layerOf(upper, { sourceDateEpoch: 5000, overlayForm: { opaque: 'user', whiteout: 'device' } });
  t.deepEqual(await layerOf(upper, { sourceDateEpoch: 5000, overlayForm: { opaque: 'user', whiteout: 'device' } }), one);
  t.false((await headers(await layerOf(upper, { sourceDateEpoch: 5000 }))).some((h) => h.name.toString() === 'b/.wh..wh..opq'));
  const hs = await headers(one);
  t.deepEqual(
    hs.map((h) => h.name.toString()),
    ['B', 'a', 'b/', 'b/.wh..wh..opq', 'b/c/', 'b/c/z', '.wh.gone'],
  );
  t.is(hs.find((h) => h.name.toString() === 'a')?.mtime, 1000, 'older times are kept');
  t.true(hs.every((h) => h.mtime <= 5000));
  t.true(hs.every((h) => h.uname === undefined && h.gname === undefined));
});
