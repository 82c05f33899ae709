/**
 * The copying snapshotter (snapshot.ts) and the change computation (changes.ts) on plain
 * directories in overlay form, without running anything: what the merged copy holds,
 * and what a change to it leaves in the upper dir. Needs root (owners, device nodes).
 */
import anyTest from 'ava';
import type { BigIntStats } from 'node:fs';
import { chmodSync, chownSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getXattr, setTimesNs, setXattr } from '../libc.js';
import { rootOnly } from '../testing/harness.js';
import { writeChanges } from './changes.js';
import { isOpaque, isWhiteout, makeWhiteout, markOpaque, type WhiteoutForm } from './overlay-form.js';
import { materialise } from './snapshot.js';

const test = rootOnly(anyTest);
const b = (p: string) => Buffer.from(p);
const st = (p: string): BigIntStats => lstatSync(p, { bigint: true });
/** The form of the whiteout at `p`, if it is one. */
const whiteoutAt = (p: string): WhiteoutForm | undefined => (isWhiteout(st(p), b(p)) ? (st(p).isCharacterDevice() ? 'device' : 'xattr') : undefined);
const FORMS: WhiteoutForm[] = ['device', 'xattr'];

let base: string;
test.before(() => {
  base = mkdtempSync(join(tmpdir(), 'tsbuild-exec-test-'));
});
test.after.always(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
function dir(name: string): string {
  const d = join(base, `${name}-${n++}`);
  mkdirSync(d);
  return d;
}

/** Two layers: `low` (bottom) and `top` with a whiteout (in `form`), an opaque dir and a replaced entry. */
function layers(form: WhiteoutForm): { top: string; low: string } {
  const low = dir('low');
  mkdirSync(join(low, 'etc'));
  writeFileSync(join(low, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
  writeFileSync(join(low, 'etc/gone'), 'deleted above');
  mkdirSync(join(low, 'opq'));
  writeFileSync(join(low, 'opq/hidden'), 'hidden by the opaque dir above');
  mkdirSync(join(low, 'merged'));
  writeFileSync(join(low, 'merged/from-low'), 'low');
  writeFileSync(join(low, 'was-file'), 'a file below, a directory above');
  writeFileSync(join(low, 'owned'), 'owned by 1000:2000', { mode: 0o640 });
  chownSync(join(low, 'owned'), 1000, 2000);
  writeFileSync(join(low, 'setuid'), '#!/bin/sh\n', { mode: 0o755 });
  chmodSync(join(low, 'setuid'), 0o4755);
  writeFileSync(join(low, 'linked-a'), 'one inode, two names');
  linkSync(join(low, 'linked-a'), join(low, 'linked-b'));
  symlinkSync('/etc/passwd', join(low, 'abs-link'));
  symlinkSync('../../../../outside', join(low, 'climbing-link'));
  writeFileSync(join(low, 'with-xattr'), 'x');
  setXattr(b(join(low, 'with-xattr')), 'user.tsbuild', b('value'));
  utimesSync(join(low, 'owned'), 1_000_000, 1_000_000);

  const top = dir('top');
  mkdirSync(join(top, 'etc'));
  makeWhiteout(b(join(top, 'etc/gone')), form);
  mkdirSync(join(top, 'opq'));
  markOpaque(b(join(top, 'opq')));
  writeFileSync(join(top, 'opq/shown'), 'top');
  mkdirSync(join(top, 'merged'));
  writeFileSync(join(top, 'merged/from-top'), 'top');
  mkdirSync(join(top, 'was-file'));
  return { top, low };
}

function names(d: string): string[] {
  return readdirSync(d).sort();
}

for (const form of FORMS) {
  test(`${form}: the copy is the merged view: whiteouts hide, opaque dirs hide, directories merge, a dir over a file wins`, (t) => {
    const { top, low } = layers(form);
    const root = dir('root');
    materialise([top, low], root);
    t.deepEqual(names(join(root, 'etc')), ['passwd']);
    t.deepEqual(names(join(root, 'opq')), ['shown']);
    t.deepEqual(names(join(root, 'merged')), ['from-low', 'from-top']);
    t.true(st(join(root, 'was-file')).isDirectory());
    t.false(isOpaque(b(join(root, 'opq'))), 'overlay attributes are not copied');
  });

  test(`${form}: the copy keeps owners, modes, setuid bits, nanosecond times, xattrs, and symlinks as links`, (t) => {
    const { top, low } = layers(form);
    const root = dir('root');
    materialise([top, low], root);
    const o = st(join(root, 'owned'));
    t.is(o.uid, 1000n);
    t.is(o.gid, 2000n);
    t.is(o.mode & 0o7777n, 0o640n);
    t.is(o.mtimeNs, st(join(low, 'owned')).mtimeNs);
    t.is(st(join(root, 'setuid')).mode & 0o7777n, 0o4755n);
    t.is(getXattr(b(join(root, 'with-xattr')), 'user.tsbuild')?.toString(), 'value');
    t.not(st(join(root, 'linked-a')).ino, st(join(low, 'linked-a')).ino, 'a copy, not a link to the layer');
    t.not(st(join(root, 'linked-a')).ino, st(join(root, 'linked-b')).ino, 'hardlinks of the layers are broken, as overlayfs breaks them on copy-up');
    t.is(readlinkSync(join(root, 'abs-link')), '/etc/passwd');
    t.is(readlinkSync(join(root, 'climbing-link')), '../../../../outside');
    t.is(st(join(root, 'merged')).mtimeNs, st(join(top, 'merged')).mtimeNs, 'directory times are set after their entries');
  });
}

/** Copy the layers, change the copy with `change`, and return the upper dir writeChanges makes (whiteouts in `form`). */
function changed(form: WhiteoutForm, change: (root: string) => void): { upper: string; top: string; low: string } {
  const { top, low } = layers(form);
  const root = dir('root');
  const baseline = materialise([top, low], root);
  change(root);
  const upper = dir('upper');
  writeChanges(root, [top, low], upper, baseline, { paths: new Set(), created: new Set() }, form);
  return { upper, top, low };
}

for (const form of FORMS) {
  test(`${form}: nothing changed: the upper dir stays empty (even for entries whose ctime moved)`, (t) => {
    const { upper } = changed(form, (root) => {
      chmodSync(join(root, 'owned'), 0o640); // same mode: ctime moves, nothing changes
      chownSync(join(root, 'etc/passwd'), 0, 0);
    });
    t.deepEqual(names(upper), []);
  });

  test(`${form}: a deleted name becomes a whiteout; a new file, a changed owner, mode and xattr come up`, (t) => {
    const { upper } = changed(form, (root) => {
      unlinkSync(join(root, 'etc/passwd'));
      writeFileSync(join(root, 'etc/new'), 'new');
      chownSync(join(root, 'owned'), 1001, 2000);
      chmodSync(join(root, 'setuid'), 0o755);
      setXattr(b(join(root, 'with-xattr')), 'user.tsbuild', b('other'));
    });
    t.deepEqual(names(upper), ['etc', 'owned', 'setuid', 'with-xattr']);
    t.is(whiteoutAt(join(upper, 'etc/passwd')), form);
    t.is(readFileSync(join(upper, 'etc/new'), 'utf8'), 'new');
    t.is(st(join(upper, 'owned')).uid, 1001n);
    t.is(st(join(upper, 'setuid')).mode & 0o7777n, 0o755n);
    t.is(getXattr(b(join(upper, 'with-xattr')), 'user.tsbuild')?.toString(), 'other');
    t.false(isOpaque(b(join(upper, 'etc'))));
  });

  test(`${form}: same size and mtime but other content is a change`, (t) => {
    const { upper } = changed(form, (root) => {
      const p = join(root, 'etc/passwd');
      const before = st(p);
      writeFileSync(p, 'ROOT:x:0:0::/root:/bin/sh\n');
      utimesSync(p, new Date(Number(before.atimeMs)), new Date(Number(before.mtimeMs)));
      const s = st(p);
      t.is(s.size, before.size);
    });
    t.deepEqual(names(join(upper, 'etc')), ['passwd']);
    t.is(readFileSync(join(upper, 'etc/passwd'), 'utf8'), 'ROOT:x:0:0::/root:/bin/sh\n');
  });

  test(`${form}: a directory removed and made again comes whole and opaque; a file replaced by a dir and a dir by a file come up as they are`, (t) => {
    const { upper } = changed(form, (root) => {
      rmSync(join(root, 'merged'), { recursive: true });
      mkdirSync(join(root, 'merged'));
      writeFileSync(join(root, 'merged/only'), 'only');
      rmSync(join(root, 'setuid'));
      mkdirSync(join(root, 'setuid'));
      rmSync(join(root, 'etc'), { recursive: true });
      writeFileSync(join(root, 'etc'), 'a file now');
    });
    t.true(isOpaque(b(join(upper, 'merged'))));
    t.deepEqual(names(join(upper, 'merged')), ['only']);
    t.true(st(join(upper, 'setuid')).isDirectory());
    t.false(isOpaque(b(join(upper, 'setuid'))), 'nothing below to hide');
    t.true(st(join(upper, 'etc')).isFile());
  });

  test(`${form}: new hardlinks come up linked, with every name; symlinks come up as links, never followed`, (t) => {
    const { upper } = changed(form, (root) => {
      writeFileSync(join(root, 'n1'), 'new');
      linkSync(join(root, 'n1'), join(root, 'n2'));
      linkSync(join(root, 'etc/passwd'), join(root, 'passwd-link'));
      unlinkSync(join(root, 'abs-link'));
      symlinkSync('/nonexistent/outside', join(root, 'abs-link'));
      renameSync(join(root, 'climbing-link'), join(root, 'moved-link'));
    });
    t.is(st(join(upper, 'n1')).ino, st(join(upper, 'n2')).ino);
    t.is(st(join(upper, 'passwd-link')).ino, st(join(upper, 'etc/passwd')).ino, 'the linked lower file comes up with its new name');
    t.is(readlinkSync(join(upper, 'abs-link')), '/nonexistent/outside');
    t.is(whiteoutAt(join(upper, 'climbing-link')), form);
    t.is(readlinkSync(join(upper, 'moved-link')), '../../../../outside');
  });

  test(`${form}: writing or removing one name of a hardlinked lower file changes that name only, as on overlayfs`, (t) => {
    const { upper } = changed(form, (root) => {
      writeFileSync(join(root, 'linked-a'), 'written', { flag: 'a' });
      unlinkSync(join(root, 'linked-b'));
    });
    t.deepEqual(names(upper), ['linked-a', 'linked-b']);
    t.is(readFileSync(join(upper, 'linked-a'), 'utf8'), 'one inode, two nameswritten');
    t.is(whiteoutAt(join(upper, 'linked-b')), form);
  });

  test(`${form}: paths the run put in are never part of the result, nor the directories made for them`, (t) => {
    const { top, low } = layers(form);
    const root = dir('root');
    const baseline = materialise([top, low], root);
    mkdirSync(join(root, 'dev'));
    writeFileSync(join(root, 'dev/null'), '');
    const etc = st(join(root, 'etc'));
    writeFileSync(join(root, 'etc/hosts'), 'mine');
    setTimesNs(b(join(root, 'etc')), etc.atimeNs, etc.mtimeNs);
    mkdirSync(join(root, 'run'));
    writeFileSync(join(root, 'run/made-by-command'), 'x');
    mkdirSync(join(root, 'run/mnt'));
    const upper = dir('upper');
    writeChanges(root, [top, low], upper, baseline, { paths: new Set(['dev/null', 'etc/hosts', 'run/mnt']), created: new Set(['dev', 'run']) }, form);
    t.deepEqual(names(upper), ['run']);
    t.deepEqual(names(join(upper, 'run')), ['made-by-command']);
  });
}
