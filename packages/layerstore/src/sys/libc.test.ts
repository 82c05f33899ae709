import test from 'ava';
import { mkdtempSync, writeFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSync, closeSync } from 'node:fs';
import { flock, LOCK_EX, LOCK_NB, LOCK_UN, getXattr, listXattrs, setXattr, removeXattr, mknod, makedev, majorOf, minorOf, S_IFCHR, SysError } from './libc.js';

test('xattrs round-trip binary values on a real file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ls-xattr-'));
  const f = join(dir, 'f');
  writeFileSync(f, 'x');
  const value = Buffer.from([0, 1, 0xfe, 0xff, 0x80]);
  setXattr(f, 'user.tsbuild', value);
  t.deepEqual(listXattrs(f), ['user.tsbuild']);
  t.deepEqual(getXattr(f, 'user.tsbuild'), value);
  t.is(getXattr(f, 'user.absent'), undefined);
  removeXattr(f, 'user.tsbuild');
  t.deepEqual(listXattrs(f), []);
  rmSync(dir, { recursive: true });
});

test('flock excludes a second open file description', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ls-lock-'));
  const p = join(dir, 'lock');
  const a = openSync(p, 'w');
  const b = openSync(p, 'r');
  t.true(flock(a, LOCK_EX | LOCK_NB));
  t.false(flock(b, LOCK_EX | LOCK_NB));
  flock(a, LOCK_UN);
  t.true(flock(b, LOCK_EX | LOCK_NB));
  closeSync(a);
  closeSync(b);
  rmSync(dir, { recursive: true });
});

test('makedev matches glibc for large numbers and mknod reports errno', (t) => {
  const dev = makedev(259, 70000);
  t.is(majorOf(dev), 259);
  t.is(minorOf(dev), 70000);
  const dir = mkdtempSync(join(tmpdir(), 'ls-mknod-'));
  if (process.getuid?.() === 0) {
    mknod(join(dir, 'null'), S_IFCHR | 0o666, makedev(1, 3));
    const st = statSync(join(dir, 'null'));
    t.true(st.isCharacterDevice());
    t.is(majorOf(st.rdev), 1);
    t.is(minorOf(st.rdev), 3);
  }
  const err = t.throws(() => mknod(join(dir, 'missing', 'x'), S_IFCHR | 0o666, 0n), { instanceOf: SysError });
  t.is(err?.errno, 'ENOENT');
  t.is(err?.code, 'TSBUILD_STORE_IO', 'a typed LayerstoreError');
  rmSync(dir, { recursive: true });
});
