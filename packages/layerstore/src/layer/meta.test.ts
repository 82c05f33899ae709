/** The one metadata setter: the order that keeps setuid bits and times, and what it leaves out. */
import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import anyTest from 'ava';
import { getXattr } from '../sys/libc.js';
import { copyMetaSync, setMeta } from './meta.js';
import { tempDir } from '../testing/fstree.js';

const test = process.getuid?.() === 0 ? anyTest : anyTest.skip;
const b = (p: string) => Buffer.from(p);

test('owner before mode keeps setuid and setgid; times are set last', async (t) => {
  const dir = await tempDir(t);
  const f = join(dir, 'f');
  writeFileSync(f, 'x');
  setMeta(b(f), { uid: 1000, gid: 1000, mode: 0o6755, xattrs: [['user.k', b('v')]], times: { atime: 1000, mtime: 2000 } });
  const st = lstatSync(f);
  t.is(st.mode & 0o7777, 0o6755);
  t.deepEqual([st.uid, st.gid], [1000, 1000]);
  t.is(st.mtimeMs, 2000_000);
  t.is(st.atimeMs, 1000_000);
  t.is(getXattr(f, 'user.k')?.toString(), 'v');
});

test('overlayfs attributes are never set, and the caller is told', async (t) => {
  const dir = await tempDir(t);
  const f = join(dir, 'f');
  writeFileSync(f, 'x');
  const skipped: string[] = [];
  setMeta(b(f), { uid: 0, gid: 0, mode: 0o644, xattrs: [['trusted.overlay.opaque', b('y')], ['user.overlay.x', b('y')]], times: undefined }, { onSkipped: (n) => skipped.push(n) });
  t.deepEqual(skipped, ['trusted.overlay.opaque', 'user.overlay.x']);
  t.is(getXattr(f, 'trusted.overlay.opaque'), undefined);
});

test('a copy takes owner, mode, attributes and times; a symlink keeps its own mode; skipped names stay behind', async (t) => {
  const dir = await tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(src);
  setMeta(b(src), { uid: 7, gid: 8, mode: 0o2750, xattrs: [['user.a', b('1')], ['user.b', b('2')]], times: { atime: 5, mtime: 6 } });
  const dst = join(dir, 'dst');
  mkdirSync(dst);
  copyMetaSync(b(src), b(dst), lstatSync(src), { skipXattrs: ['user.b'] });
  const st = lstatSync(dst);
  t.deepEqual([st.uid, st.gid, st.mode & 0o7777, st.mtimeMs], [7, 8, 0o2750, 6000]);
  t.is(getXattr(dst, 'user.a')?.toString(), '1');
  t.is(getXattr(dst, 'user.b'), undefined);

  symlinkSync('target', join(dir, 'l1'));
  symlinkSync('target', join(dir, 'l2'));
  const before = lstatSync(join(dir, 'l2')).mode;
  copyMetaSync(b(join(dir, 'l1')), b(join(dir, 'l2')), lstatSync(join(dir, 'l1')), { owner: { uid: 3, gid: 4 }, mode: 0o600 });
  const l2 = lstatSync(join(dir, 'l2'));
  t.is(l2.mode, before);
  t.deepEqual([l2.uid, l2.gid], [3, 4]);
});

test('xattrs a filesystem refuses are reported only when the caller asks', async (t) => {
  const dir = await tempDir(t);
  const f = join(dir, 'f');
  writeFileSync(f, 'x');
  // user.* attributes cannot be set on a symlink (EPERM).
  symlinkSync('f', join(dir, 'l'));
  const refused: string[] = [];
  setMeta(b(join(dir, 'l')), { uid: 0, gid: 0, mode: undefined, xattrs: [['user.k', b('v')]], times: undefined }, { onUnsupported: (n, errno) => refused.push(`${n} ${errno}`) });
  t.deepEqual(refused, ['user.k EPERM']);
  t.throws(() => setMeta(b(join(dir, 'l')), { uid: 0, gid: 0, mode: undefined, xattrs: [['user.k', b('v')]], times: undefined }));
});
