import test from 'ava';
import { F } from './fields.js';
import { PAX_HEADER_NAME, decodeBlock, encodeHeader } from './header.js';
import { encodePaxRecords, parsePax, splitPaxRecords } from './pax.js';
import { b, hdr, patchBlock, throwsTar } from './test-helpers.js';

const field = (blk: Buffer, name: keyof typeof F): Buffer => blk.subarray(F[name][0], F[name][0] + F[name][1]);
const text = (blk: Buffer, name: keyof typeof F): string => field(blk, name).toString('latin1');
/** The PAX record data of encodeHeader output that starts with an 'x' block. */
const paxData = (out: Buffer): Buffer => out.subarray(512, 512 + parseInt(text(out, 'size'), 8));

test('a short header is one ustar block with GNU/Go-style numeric fields', (t) => {
  const blk = encodeHeader(hdr('dir/file.txt', 'file', { mode: 0o4755, uid: 1000, gid: 50, size: 5, mtime: 1_700_000_000 }));
  t.is(blk.length, 512);
  t.is(text(blk, 'name'), 'dir/file.txt'.padEnd(100, '\0'));
  t.is(text(blk, 'mode'), '0004755\0');
  t.is(text(blk, 'uid'), '0001750\0');
  t.is(text(blk, 'gid'), '0000062\0');
  t.is(text(blk, 'size'), '00000000005\0');
  t.is(text(blk, 'mtime'), '14524770400\0');
  t.is(text(blk, 'typeflag'), '0');
  t.is(text(blk, 'magic'), 'ustar\0');
  t.is(text(blk, 'version'), '00');
  t.is(text(blk, 'uname'), '\0'.repeat(32));
  t.is(text(blk, 'devmajor'), '0000000\0');
  t.regex(text(blk, 'chksum'), /^[0-7]{6}\0 $/);
  t.deepEqual(encodeHeader(hdr('dir/file.txt', 'file', { mode: 0o4755, uid: 1000, gid: 50, size: 5 })), encodeHeader(hdr('dir/file.txt', 'file', { mode: 0o4755, uid: 1000, gid: 50, size: 5 })));
  const raw = decodeBlock(blk);
  t.deepEqual([raw.name, raw.mode, raw.uid, raw.gid, raw.size, raw.mtime], [b('dir/file.txt'), 0o4755, 1000, 50, 5, 1_700_000_000]);
});

test('type flags, and mode keeps only permission bits', (t) => {
  const flags = { file: '0', link: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6' } as const;
  for (const [type, flag] of Object.entries(flags)) {
    t.is(text(encodeHeader(hdr('x', type as keyof typeof flags)), 'typeflag'), flag);
  }
  t.is(text(encodeHeader(hdr('x', 'file', { mode: 0o100644 })), 'mode'), '0000644\0');
});

test('uname and gname are written only when given', (t) => {
  const blk = encodeHeader(hdr('x', 'file', { uname: 'root', gname: 'wheel' }));
  t.is(text(blk, 'uname'), 'root'.padEnd(32, '\0'));
  t.is(text(blk, 'gname'), 'wheel'.padEnd(32, '\0'));
  const long = encodeHeader(hdr('x', 'file', { uname: 'u'.repeat(40), gname: 'grüppe' }));
  t.true(long.includes(b(`uname=${'u'.repeat(40)}\n`)));
  t.true(long.includes(b('gname=grüppe\n')));
});

test('a long name is split into ustar prefix and name at a slash when possible', (t) => {
  const name = `${'a'.repeat(120)}/${'b'.repeat(90)}`;
  const blk = encodeHeader(hdr(name));
  t.is(blk.length, 512, 'no PAX header needed');
  t.is(text(blk, 'prefix'), 'a'.repeat(120).padEnd(155, '\0'));
  t.is(text(blk, 'name'), 'b'.repeat(90).padEnd(100, '\0'));
  t.deepEqual(decodeBlock(blk).name, b(name));
  // A directory keeps its trailing slash in the name part.
  const dir = `${'d'.repeat(130)}/sub/`;
  const dblk = encodeHeader(hdr(dir, 'directory'));
  t.is(dblk.length, 512);
  t.is(text(dblk, 'name').replace(/\0+$/, ''), 'sub/');
  t.deepEqual(decodeBlock(dblk).name, b(dir));
});

test('a name that cannot be split gets a PAX path record with the raw bytes', (t) => {
  const name = Buffer.concat([b('x'.repeat(300)), Buffer.from([0xff, 0xfe])]);
  const out = encodeHeader(hdr(name));
  const pax = out.subarray(0, 512);
  t.deepEqual(pax.subarray(0, PAX_HEADER_NAME.length), PAX_HEADER_NAME);
  t.is(text(pax, 'typeflag'), 'x');
  t.is(text(pax, 'magic'), 'ustar\0');
  const size = parseInt(text(pax, 'size'), 8);
  const records = out.subarray(512, 512 + size);
  t.deepEqual(splitPaxRecords(records), [[b('path'), name]]);
  t.is(out.length, 512 + Math.ceil(size / 512) * 512 + 512);
  const ustar = out.subarray(out.length - 512);
  t.deepEqual(field(ustar, 'name'), name.subarray(0, 100), 'ustar name holds the first 100 bytes');
  t.is(text(ustar, 'prefix'), '\0'.repeat(155));
});

test('long linkname, big ids, big size and out-of-range mtime go to PAX; fields hold 0', (t) => {
  const out = encodeHeader(
    hdr('l', 'symlink', { linkname: b('t'.repeat(101)), uid: 0o7777777 + 1, gid: 0o7777777 }),
  );
  const records = parsePax(paxData(out));
  t.deepEqual(records.linkpath, b('t'.repeat(101)));
  t.is(records.uid, 0o7777777 + 1);
  t.is(records.gid, undefined, 'gid still fits the field');
  const ustar = out.subarray(out.length - 512);
  t.is(text(ustar, 'uid'), '0000000\0');
  t.is(text(ustar, 'gid'), '7777777\0');

  const big = encodeHeader(hdr('big', 'file', { size: 8 * 1024 ** 3, mtime: -1 }));
  t.deepEqual(parsePax(paxData(big)), { size: 8 * 1024 ** 3, mtime: -1 });
  const late = encodeHeader(hdr('late', 'file', { mtime: 0o77777777777 + 1 }));
  t.is(parsePax(paxData(late)).mtime, 0o77777777777 + 1);
  t.is(encodeHeader(hdr('edge', 'file', { size: 0o77777777777, mtime: 0o77777777777 })).length, 512);
});

test('PAX records are sorted by key and xattr values are raw bytes', (t) => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const xattrs = new Map([
    ['user.z', b('last')],
    ['security.capability', all],
    ['user.a', Buffer.alloc(0)],
  ]);
  const out = encodeHeader(hdr('p'.repeat(101), 'file', { xattrs, uid: 1 << 30 }));
  const size = parseInt(text(out, 'size'), 8);
  const keys = splitPaxRecords(out.subarray(512, 512 + size)).map(([k]) => k.toString());
  t.deepEqual(keys, ['SCHILY.xattr.security.capability', 'SCHILY.xattr.user.a', 'SCHILY.xattr.user.z', 'path', 'uid']);
  t.deepEqual(parsePax(out.subarray(512, 512 + size)).xattrs, new Map([...xattrs].sort()));
  // Insertion order does not change the bytes.
  const reversed = new Map([...xattrs].reverse());
  t.deepEqual(encodeHeader(hdr('p'.repeat(101), 'file', { xattrs: reversed, uid: 1 << 30 })), out);
});

test('PAX record lengths are right across digit boundaries', (t) => {
  for (let n = 0; n < 1100; n++) {
    const value = Buffer.alloc(n, 0x61);
    const data = encodePaxRecords(new Map([['comment', value]]));
    const declared = Number(data.subarray(0, data.indexOf(0x20)).toString());
    t.is(declared, data.length, `value length ${n}`);
    t.deepEqual(splitPaxRecords(data), [[b('comment'), value]]);
  }
});

test('values that cannot be represented are refused', async (t) => {
  const cases: Array<[string, Parameters<typeof hdr>[2] & object, Parameters<typeof hdr>[1]?]> = [
    ['NUL in name', { name: b('a\0b') }],
    ['NUL in linkname', { linkname: b('a\0b') }, 'symlink'],
    ['fractional uid', { uid: 1.5 }],
    ['negative gid', { gid: -1 }],
    ['fractional mtime', { mtime: 1.25 }],
    ['directory with a size', { size: 4096 }, 'directory'],
    ['linkname on a file', { linkname: b('x') }],
    ['device numbers on a file', { devmajor: 1 }],
    ['huge device number', { devmajor: 0o10000000 }, 'char'],
    ['xattr name with =', { xattrs: new Map([['user.a=b', b('v')]]) }],
    ['xattr value not a Buffer', { xattrs: new Map([['user.a', 'v' as unknown as Buffer]]) }],
    ['uname with NUL', { uname: 'a\0' }],
    ['unknown type', { type: 'socket' as never }],
  ];
  for (const [what, extra, type] of cases) {
    await throwsTar(t, () => encodeHeader(hdr('entry', type, extra)), /cannot encode header/, what);
  }
});

test('decoding accepts signed checksums, base-256 numbers and GNU/v7 headers', (t) => {
  const base = encodeHeader(hdr(Buffer.from([0xe9, 0xff, 0x80]), 'file', { uname: 'bob' }));
  // Signed checksum (old Sun tar): bytes >= 0x80 count negative.
  const signed = Buffer.from(base);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (signed[i]! << 24) >> 24;
  signed.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  t.deepEqual(decodeBlock(signed).name, Buffer.from([0xe9, 0xff, 0x80]));

  const gnu = patchBlock(base, 0, (blk) => {
    blk.write('ustar  \0', 257, 'latin1');
    Buffer.from([0x80, 0, 0, 0, 0, 0x2d, 0xc6, 0xc0]).copy(blk, F.uid[0]); // 3000000
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x9c]).copy(blk, F.mtime[0]); // -100
    blk.write('ignored', F.prefix[0], 'latin1'); // GNU headers have no prefix field
  });
  const g = decodeBlock(gnu);
  t.is(g.uid, 3_000_000);
  t.is(g.mtime, -100);
  t.is(g.uname, 'bob');
  t.deepEqual(g.name, Buffer.from([0xe9, 0xff, 0x80]));

  const v7 = patchBlock(base, 0, (blk) => {
    blk.fill(0, 257);
    blk.write('0000644 ', F.mode[0], 'latin1'); // space-terminated is fine too
  });
  const v = decodeBlock(v7);
  t.is(v.mode, 0o644);
  t.is(v.uname, undefined);

  const bad = Buffer.from(base);
  bad[10] = 0x41;
  t.throws(() => decodeBlock(bad), { message: /invalid header checksum/ });
  t.throws(() => decodeBlock(patchBlock(base, 0, (blk) => blk.write('12x4', F.size[0], 'latin1'))), { message: /invalid size field/ });
});

test('PAX parsing rejects malformed records and keeps bytes', async (t) => {
  const malformed: Array<[string, RegExp]> = [
    ['x path=a\n', /non-numeric length/],
    [' path=a\n', /bad length/],
    ['0 path=a\n', /length is zero/],
    ['30 path=a\n', /runs past/],
    ['10 path=ab ', /missing newline/],
    ['8 patha\n', /missing key/],
    ['6 =ab\n', /missing key/],
    ['12 path=a\0b\n', /NUL/],
    ['8 path=\n', /empty PAX path/],
    ['10 path=a\n\0\0', /length|newline/], // NUL padding after the records
  ];
  for (const [rec, why] of malformed) await throwsTar(t, () => parsePax(Buffer.from(rec, 'latin1')), why, JSON.stringify(rec));
  await throwsTar(t, () => parsePax(b('22 GNU.sparse.major=1\n')), /sparse files are not supported/);
  await throwsTar(t, () => parsePax(b('10 uid=-1\n')), /invalid PAX uid/);
  await throwsTar(t, () => parsePax(b('13 size=1e10\n')), /invalid PAX size/);
  await throwsTar(t, () => parsePax(b('13 mtime=1:2\n')), /invalid PAX mtime/);
  const times: Array<[string, number]> = [['1.9', 1], ['-1.5', -2], ['-3', -3], ['-3.000', -3], ['7.', 7]];
  for (const [v, want] of times) {
    const data = encodePaxRecords(new Map([['mtime', b(v)]]));
    t.is(parsePax(data).mtime, want, v);
  }
  const o = parsePax(encodePaxRecords(new Map([['path', Buffer.from([0x62, 0xff])], ['hdrcharset', b('BINARY')], ['uname', b('')]])));
  t.deepEqual(o, { path: Buffer.from([0x62, 0xff]), uname: '' });
});
