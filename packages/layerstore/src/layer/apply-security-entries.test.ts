/**
 * Hostile layers against applyTar, with the victim harness (src/testing/victim.ts): whiteouts,
 * devices, modes, long and odd names, headers and xattrs, each case in 'delete' and in 'overlay'
 * mode. Names, symlinks and hardlinks are in apply-security.test.ts.
 */
import { lstat, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { encodeHeader, type TarHeader } from '../tar/index.js';
import { patchBlock, rawEntry } from '../tar/test-helpers.js';
import { getXattr, majorOf, minorOf } from '../sys/libc.js';
import { char, dir, file, hardlink, opaque, raw, symlink, whiteout, type Piece } from '../testing/tarbuild.js';
import { runBreakout, type BreakoutCase } from '../testing/victim.js';
import { at, exists, text, upperWhiteout } from '../testing/victim-checks.js';

/** A header block with base-256 device numbers (the encoder refuses numbers this big). */
function hugeDevice(name: string, major: bigint): Piece {
  const blk = encodeHeader({ name: Buffer.from(name), type: 'char', mode: 0o600, uid: 0, gid: 0, size: 0, mtime: 0, devmajor: 0, devminor: 0 });
  return raw(
    patchBlock(blk, 0, (b) => {
      b.writeBigUInt64BE(major, 329);
      b[329] = b[329]! | 0x80;
    }),
  );
}

/** A GNU 'L' long-name record followed by the entry it names. */
function gnuLongName(name: string, content: string): Piece[] {
  const header: TarHeader = { name: Buffer.from(name.slice(0, 100)), type: 'file', mode: 0o644, uid: 0, gid: 0, size: content.length, mtime: 0 };
  const body = Buffer.from(content);
  return [raw(rawEntry('L', '././@LongLink', Buffer.from(`${name}\0`))), raw(Buffer.concat([encodeHeader(header), body, Buffer.alloc(512 - body.length)]))];
}

/** A GNU-format header whose uid needs base-256 (go-archive broken.tar's "huge uid"). */
function gnuHugeUid(name: string, uid: number): Piece {
  const body = Buffer.from('gnu uid');
  const blk = encodeHeader({ name: Buffer.from(name), type: 'file', mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: 0 });
  const patched = patchBlock(blk, 0, (b) => {
    b.write('ustar  \0', 257, 'latin1');
    b.fill(0, 108, 116);
    b.writeUIntBE(uid, 110, 6);
    b[108] = 0x80;
  });
  return raw(Buffer.concat([patched, body, Buffer.alloc(512 - body.length)]));
}

/** A PAX global header ('g'): ignored, never a file. */
const globalHeader = (name: string) => raw(rawEntry('g', name, Buffer.from('19 comment=ignored\n')));

// security.capability v2: CAP_NET_RAW permitted + effective.
const CAPABILITY = Buffer.from([0x01, 0, 0, 0x02, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);


const cases: BreakoutCase[] = [
  { id: '27a', title: 'whiteout of .', layer: [file('.wh..')], expect: 'reject' },
  { id: '27b', title: 'whiteout of . in a directory', layer: [dir('etc'), file('etc/.wh..')], expect: 'reject' },
  { id: '27c', title: 'whiteout of ..', layer: [dir('etc'), file('etc/.wh...')], expect: 'reject' },
  { id: '27d', title: 'empty whiteout', layer: [file('.wh.')], expect: 'reject' },
  {
    id: '28',
    title: 'whiteout of a symlink removes the link only',
    lower: [dir('etc'), file('etc/passwd', 'all users'), symlink('localetc', '/etc')],
    layer: [whiteout('localetc')],
    expect: 'ok',
    check: async (t, h) => {
      t.false(await exists(h, 'localetc'));
      t.is(await text(h, 'etc/passwd'), 'all users');
    },
    checkUpper: (t, h) => upperWhiteout(t, h, 'localetc'),
  },
  {
    id: '29',
    title: 'whiteout under a symlinked parent',
    lower: [dir('etc'), file('etc/passwd', 'all users'), file('etc/whitedout', 'x'), symlink('localetc', '/etc')],
    layer: [file('localetc/.wh.whitedout')],
    expect: 'ok',
    check: async (t, h) => {
      t.false(await exists(h, 'etc/whitedout'));
      t.is(await text(h, 'etc/passwd'), 'all users');
      t.is(await readlink(at(h, 'localetc')), '/etc');
    },
    checkUpper: (t, h) => upperWhiteout(t, h, 'etc/whitedout'),
  },
  {
    id: '31',
    title: '.wh. prefix on a directory component',
    lower: [dir('etc'), file('etc/passwd', 'x')],
    layer: [file('.wh.etc/somefile', 'non-empty')],
    expect: 'ok',
    check: async (t, h) => {
      t.is(await text(h, 'etc/passwd'), 'x');
      t.is(await text(h, '.wh.etc/somefile'), 'non-empty');
    },
  },
  {
    id: '33',
    title: 'whiteout does not hide an entry of the same layer',
    lower: [file('foo', 'lower')],
    layer: [file('foo', 'layer'), whiteout('foo')],
    expect: 'ok',
    check: async (t, h) => t.is(await text(h, 'foo'), 'layer'),
  },
  {
    id: '34',
    title: 'AUFS meta entries are skipped',
    layer: [dir('.wh..wh.plnk'), file('.wh..wh.aufs'), file('after', 'x')],
    expect: 'ok',
    check: async (t, h) => {
      t.false(await exists(h, '.wh..wh.plnk'));
      t.false(await exists(h, '.wh..wh.aufs'));
      t.is(await text(h, 'after'), 'x');
    },
  },
  { id: '35', title: 'entry under a non-directory', layer: [file('nondir', 'x'), file('nondir/child', 'y')], expect: 'either' },
  {
    id: '37a',
    title: 'device node',
    layer: [dir('dev'), char('dev/evil', 1, 3, { mode: 0o666 })],
    expect: 'ok',
    check: async (t, h) => {
      const st = await lstat(at(h, 'dev/evil'));
      t.true(st.isCharacterDevice());
      t.is(`${majorOf(st.rdev)}:${minorOf(st.rdev)}`, '1:3');
      t.is(st.mode & 0o7777, 0o666);
    },
  },
  { id: '37b', title: 'device major out of range', layer: [dir('dev'), hugeDevice('dev/big', 2n ** 32n + 1n)], expect: 'reject' },
  {
    id: '38',
    title: 'setuid, setgid and sticky bits survive chown',
    layer: [file('bin/suid', '#!', { mode: 0o4755, uid: 1000, gid: 1000 }), dir('tmp', { mode: 0o1777 }), file('bin/sg', '#!', { mode: 0o2755, gid: 50 })],
    expect: 'ok',
    check: async (t, h) => {
      const suid = await lstat(at(h, 'bin/suid'));
      t.is(suid.mode & 0o7777, 0o4755);
      t.is(suid.uid, 1000);
      t.is((await lstat(at(h, 'tmp'))).mode & 0o7777, 0o1777);
      t.is((await lstat(at(h, 'bin/sg'))).mode & 0o7777, 0o2755);
    },
  },
  {
    id: '39',
    title: 'long names: PAX path, GNU long name, ustar prefix; a GNU base-256 uid',
    layer: [
      file(`d/${'a'.repeat(200)}/${'b'.repeat(200)}`, 'pax'),
      ...gnuLongName(`g/${'c'.repeat(200)}/${'d'.repeat(120)}`, 'gnu'),
      file(`${'p'.repeat(155)}/${'n'.repeat(100)}`, 'ustar'),
      gnuHugeUid('huge-uid', 3_000_000),
    ],
    expect: 'ok',
    check: async (t, h) => {
      t.is(await text(h, `d/${'a'.repeat(200)}/${'b'.repeat(200)}`), 'pax');
      t.is(await text(h, `g/${'c'.repeat(200)}/${'d'.repeat(120)}`), 'gnu');
      t.is(await text(h, `${'p'.repeat(155)}/${'n'.repeat(100)}`), 'ustar');
      t.is((await lstat(at(h, 'huge-uid'))).uid, 3_000_000);
    },
  },
  {
    id: '40',
    title: 'invalid UTF-8 names stay bytes',
    layer: [file(Buffer.from('bad-\xff\xfe-name', 'latin1'), 'fe'), file(Buffer.from('bad-\xff\xfd-name', 'latin1'), 'fd'), whiteout(Buffer.from('bad-\xff\xfc-name', 'latin1'))],
    lower: [file(Buffer.from('bad-\xff\xfc-name', 'latin1'), 'fc'), file(Buffer.from('bad-\ufffd-name'), 'replacement')],
    expect: 'ok',
    check: async (t, h) => {
      t.is((await readFile(at(h, Buffer.from('bad-\xff\xfe-name', 'latin1')))).toString(), 'fe');
      t.is((await readFile(at(h, Buffer.from('bad-\xff\xfd-name', 'latin1')))).toString(), 'fd');
      t.false(await exists(h, Buffer.from('bad-\xff\xfc-name', 'latin1')));
      t.is(await text(h, 'bad-\ufffd-name'), 'replacement');
    },
  },
  {
    id: '43',
    title: 'PAX global headers are ignored',
    layer: [globalHeader('pax_global_header'), globalHeader('foo/bar'), file('after', 'x')],
    expect: 'ok',
    check: async (t, h) => {
      t.false(await exists(h, 'pax_global_header'));
      t.false(await exists(h, 'foo'));
      t.is(await text(h, 'after'), 'x');
    },
  },
  {
    id: '48',
    title: '..-looking but legal names',
    layer: [file('..gitme', '1'), file('a/..b', '2'), file('...', '3')],
    expect: 'ok',
    check: async (t, h) => {
      t.is(await text(h, '..gitme'), '1');
      t.is(await text(h, 'a/..b'), '2');
      t.is(await text(h, '...'), '3');
    },
  },
  {
    id: '49',
    title: 'symlink targets are stored verbatim',
    layer: [symlink('bin/tool', '../usr/local/bin/tool'), symlink('bin/tool2', '/usr/local/bin/tool'), symlink('bin/odd', '//x/./y/../')],
    expect: 'ok',
    check: async (t, h) => {
      t.is(await readlink(at(h, 'bin/tool')), '../usr/local/bin/tool');
      t.is(await readlink(at(h, 'bin/tool2')), '/usr/local/bin/tool');
      t.is(await readlink(at(h, 'bin/odd')), '//x/./y/../');
    },
  },
  {
    id: '50',
    title: 'xattrs: capability kept, user.* on a symlink and trusted.overlay.* dropped',
    lower: [dir('opq'), file('opq/lowerchild', 'x')],
    layer: [
      file('bin/ping', 'elf', { mode: 0o755, xattrs: { 'security.capability': CAPABILITY, 'user.note': 'kept' } }),
      symlink('link', 'bin/ping', { xattrs: { 'user.x': 'y' } }),
      dir('opq', { xattrs: { 'trusted.overlay.opaque': 'y', 'user.overlay.opaque': 'y' } }),
      dir('fake', { xattrs: { 'trusted.overlay.redirect': '/opq' } }),
    ],
    expect: 'ok',
    check: async (t, h) => {
      t.deepEqual(getXattr(at(h, 'bin/ping'), 'security.capability'), CAPABILITY);
      t.deepEqual(getXattr(at(h, 'bin/ping'), 'user.note'), Buffer.from('kept'));
      t.is(getXattr(at(h, 'link'), 'user.x'), undefined);
      t.is(await text(h, 'opq/lowerchild'), 'x', 'an archive cannot make a directory opaque');
      t.false(await exists(h, 'fake/lowerchild'));
      t.true(h.warnings.some((w) => w.includes('trusted.overlay.opaque')));
      t.true(h.warnings.some((w) => w.includes('user.x')));
    },
    checkUpper: async (t, h) => {
      t.is(getXattr(join(h.dest, 'opq'), 'trusted.overlay.opaque'), undefined);
      t.is(getXattr(join(h.dest, 'fake'), 'trusted.overlay.redirect'), undefined);
    },
  },
  {
    id: 'X1',
    title: 'directory times are not set through a directory later replaced by a symlink',
    layer: (h) => [dir('x'), dir('x/hello', { mtime: 12345 }), symlink('x', h.victim)],
    expect: 'either',
    check: async (t, h) => t.is(await readlink(at(h, 'x')), h.victim),
  },
  {
    id: 'X2',
    title: 'a hardlink to itself keeps the file',
    lower: [file('lowerfile', 'low')],
    layer: [file('a', 'content'), hardlink('a', 'a'), hardlink('lowerfile', 'lowerfile')],
    expect: 'either',
    check: async (t, h) => {
      t.is(await text(h, 'a'), 'content');
      t.is(await text(h, 'lowerfile'), 'low');
    },
  },
  {
    id: 'X3',
    title: 'opaque marker under a symlinked parent stays inside',
    lower: [dir('etc'), file('etc/old', 'x'), symlink('localetc', '/etc')],
    layer: [opaque('localetc'), file('etc/new', 'y')],
    expect: 'ok',
    check: async (t, h) => {
      t.false(await exists(h, 'etc/old'));
      t.is(await text(h, 'etc/new'), 'y');
      t.is(await readlink(at(h, 'localetc')), '/etc');
    },
    checkUpper: async (t, h) => t.is(getXattr(join(h.dest, 'etc'), 'trusted.overlay.opaque')?.toString(), 'y'),
  },
];

for (const c of cases) {
  for (const mode of ['delete', 'overlay'] as const) {
    test(`case ${c.id} (${mode}): ${c.title}`, (t) => runBreakout(t, c, mode));
  }
}
