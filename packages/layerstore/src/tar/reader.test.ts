import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import test from 'ava';
import type { TarHeader } from './header.js';
import { encodePaxRecords } from './pax.js';
import { readTar } from './reader.js';
import { writeTar, type TarWriteEntry } from './writer.js';
import { END, archive, b, chunked, collect, file, hdr, patchBlock, rawEntry, readAll, tempDir, throwsTar } from './test-helpers.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const paxRecord = (key: string, value: Buffer | string): Buffer =>
  encodePaxRecords(new Map([[key, typeof value === 'string' ? b(value) : value]]));
/** One file entry as bytes, without the end marker. */
const plainFile = (name: string, content = 'data'): Buffer => rawEntry('0', name, b(content));

test('every entry type round-trips through writer and reader', async (t) => {
  const headers: TarHeader[] = [
    hdr('dir/', 'directory', { mode: 0o1777, uid: 1, gid: 2, uname: 'root', gname: 'wheel' }),
    hdr('dir/file', 'file', { size: 11, mode: 0o4755, uid: 3_000_000, gid: 0o7777777 + 1, mtime: -5 }),
    hdr('dir/hard', 'link', { linkname: b('dir/file'), mode: 0o755 }),
    hdr('dir/sym', 'symlink', { linkname: b('../../etc/passwd'), mode: 0o777 }),
    hdr('dev/null', 'char', { devmajor: 1, devminor: 3, mode: 0o666 }),
    hdr('dev/sda', 'block', { devmajor: 8, devminor: 0, mode: 0o660 }),
    hdr('pipe', 'fifo', { mode: 0o2755, xattrs: new Map([['user.k', b('v')]]) }),
    hdr('empty', 'file', { mtime: 0o77777777777 + 10 }),
  ];
  const entries: TarWriteEntry[] = headers.map((header) => ({ header, body: header.size ? b('hello world') : undefined }));
  const read = await readAll(await archive(entries));
  t.deepEqual(
    read.map((e) => e.header),
    headers,
  );
  t.is(read[1]!.body.toString(), 'hello world');
});

test('long names: PAX path, ustar prefix split, a 400-byte name, long link names', async (t) => {
  const names = [
    `${'a'.repeat(90)}/${'b'.repeat(90)}`,
    `${'c'.repeat(400)}`,
    `${'d'.repeat(200)}/${'e'.repeat(199)}`,
    `${'f'.repeat(154)}/${'g'.repeat(100)}`, // exactly fills prefix+name
    `${'h'.repeat(300)}/`,
  ];
  const entries: TarWriteEntry[] = names.map((n) =>
    n.endsWith('/') ? { header: hdr(n, 'directory') } : file(n, n.slice(0, 3)),
  );
  entries.push({ header: hdr('s', 'symlink', { linkname: b('t'.repeat(5000)) }) });
  entries.push({ header: hdr('h'.repeat(101), 'link', { linkname: b('c'.repeat(400)) }) });
  const read = await readAll(await archive(entries));
  t.deepEqual(read.slice(0, names.length).map((e) => e.header.name.toString()), names);
  t.is(read[1]!.header.name.length, 400);
  t.is(read[1]!.body.toString(), 'ccc');
  t.is(read[4]!.header.type, 'directory');
  t.deepEqual(read[5]!.header.linkname, b('t'.repeat(5000)));
  t.deepEqual(read[6]!.header.linkname, b('c'.repeat(400)));
});

test('non-UTF-8 names stay byte-exact and distinct; binary xattrs are preserved', async (t) => {
  const fe = Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe]);
  const fd = Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfd]);
  const longBad = Buffer.concat([Buffer.alloc(300, 0x78), fe]);
  const read = await readAll(
    await archive([
      file(fe, '1'),
      file(fd, '2'),
      file(longBad, '3'),
      file('cap', 'x', { xattrs: new Map([['security.capability', ALL_BYTES], ['user.empty', Buffer.alloc(0)]]) }),
    ]),
  );
  t.deepEqual(read[0]!.header.name, fe);
  t.deepEqual(read[1]!.header.name, fd);
  t.false(read[0]!.header.name.equals(read[1]!.header.name));
  t.deepEqual(read[2]!.header.name, longBad);
  t.deepEqual(read[3]!.header.xattrs?.get('security.capability'), ALL_BYTES);
  t.deepEqual(read[3]!.header.xattrs?.get('user.empty'), Buffer.alloc(0));
});

test('results do not depend on how the input is chunked', async (t) => {
  const tar = await archive([
    file('x'.repeat(250), Buffer.alloc(3000, 1), { uid: 1 << 30 }),
    { header: hdr('l', 'symlink', { linkname: b('y'.repeat(700)) }) },
    file('small', 'abc'),
  ]);
  const expected = await readAll(tar);
  for (const sizes of [1, 7, 511, 512, 513, [1, 1000, 3, 512, 64]]) {
    t.deepEqual(await readAll(chunked(tar, sizes)), expected, `chunks ${JSON.stringify(sizes)}`);
  }
  const fromStream = await readAll(Readable.from(chunked(tar, 333)));
  t.deepEqual(fromStream, expected);
});

test('unread bodies are skipped; a body cannot be read after moving on or twice', async (t) => {
  const tar = await archive([file('a', Buffer.alloc(5000, 0x61)), file('b', Buffer.alloc(1000, 0x62)), file('c', 'c')]);
  const names: string[] = [];
  let stale: AsyncIterable<Buffer> | undefined;
  for await (const { header, body } of readTar(chunked(tar, 1000))) {
    names.push(header.name.toString());
    if (header.name.toString() === 'b') {
      const it = body[Symbol.asyncIterator]();
      // b's body starts at 512 + 5120 + 512 = 6144; the input chunk ends at 7000.
      t.is((await it.next()).value?.length, 7000 - 6144, 'first chunk is a slice up to the chunk boundary');
      t.throws(() => body[Symbol.asyncIterator](), { message: /only once/ });
    }
    if (header.name.toString() === 'a') stale = body;
  }
  t.deepEqual(names, ['a', 'b', 'c']);
  await t.throwsAsync(async () => collect(stale!), { message: /after the next entry/ });
});

test('end of archive: two zero blocks, one zero block then EOF, or EOF at a boundary; the rest is drained', async (t) => {
  const one = plainFile('one');
  t.is((await readAll(Buffer.concat([one, END]))).length, 1);
  t.is((await readAll(Buffer.concat([one, END.subarray(0, 512)]))).length, 1);
  t.is((await readAll(one)).length, 1);
  t.is((await readAll(Buffer.alloc(0))).length, 0);

  let pulled = 0;
  let finished = false;
  async function* input(): AsyncGenerator<Buffer> {
    try {
      for (const c of [one, END, Buffer.alloc(9216), b('trailing junk after the end marker')]) {
        pulled++;
        yield c;
      }
    } finally {
      finished = true;
    }
  }
  t.is((await readAll(input())).length, 1);
  t.is(pulled, 4, 'trailing data after the marker was read');
  t.true(finished);

  await throwsTar(t, readAll(Buffer.concat([one, END.subarray(0, 512), one])), /zero block followed by a non-zero block/);
  await throwsTar(t, readAll(Buffer.concat([one, END.subarray(0, 700)])), /unexpected EOF/);
});

test('stopping early closes the input', async (t) => {
  let closed = false;
  async function* input(): AsyncGenerator<Buffer> {
    try {
      yield plainFile('a');
      yield plainFile('b');
      yield END;
    } finally {
      closed = true;
    }
  }
  for await (const entry of readTar(input())) {
    t.is(entry.header.name.toString(), 'a');
    break;
  }
  t.true(closed);
});

test('malformed input is a TarError naming the entry', async (t) => {
  const tar = await archive([file('victim', Buffer.alloc(10_000, 0x41)), file('next', 'n')]);
  const badSum = Buffer.from(tar);
  badSum[1] ^= 0x01;
  const e1 = await throwsTar(t, readAll(badSum), /invalid header checksum/);
  t.is(e1?.entry, 'vhctim', "the name as found in the (corrupt) block: 'i' ^ 1 = 'h'");

  const e2 = await throwsTar(t, readAll(tar.subarray(0, 300)), /unexpected EOF in header/);
  t.is(e2?.entry, 'victim');
  const e3 = await throwsTar(t, readAll(tar.subarray(0, 512 + 5000)), /unexpected EOF in entry body/);
  t.is(e3?.entry, 'victim');
  // Also when the body is skipped rather than read, and when only the padding is missing.
  await throwsTar(t, (async () => {
    for await (const _ of readTar(chunked(tar.subarray(0, 512 + 5000)))) void _;
  })(), /unexpected EOF in entry body/);
  await throwsTar(t, readAll(tar.subarray(0, 512 + 10_000 + 100)), /unexpected EOF/);

  const unknown = Buffer.concat([rawEntry('D', 'dumpdir/'), END]);
  await throwsTar(t, readAll(unknown), /unsupported entry type 'D'/);
});

test('malformed PAX records are hard errors', async (t) => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['non-numeric length', b('1a path=x\n'), /non-numeric length/],
    ['length runs past the data', b('99 path=x\n'), /runs past/],
    ['zero length', b('0 path=x\n'), /length is zero/],
    ['no newline', b('10 path=xy'), /missing newline/],
    ['length too short', b('9 path=xy\n'), /missing newline/],
    ['NUL in path', paxRecord('path', Buffer.from('a\0b')), /NUL/],
    ['NUL in linkpath', paxRecord('linkpath', Buffer.from('a\0b')), /NUL/],
    ['bad size', paxRecord('size', '-1'), /invalid PAX size/],
    ['PAX sparse', paxRecord('GNU.sparse.major', '1'), /sparse files are not supported/],
  ];
  for (const [what, data, why] of cases) {
    const tar = Buffer.concat([rawEntry('x', 'PaxHeaders/victim', data), plainFile('victim'), END]);
    await throwsTar(t, readAll(tar), why, what);
  }
});

test('PAX and GNU long-name data above maxPaxSize is refused before it is buffered', async (t) => {
  const big = paxRecord('comment', Buffer.alloc(300, 0x63));
  const tar = Buffer.concat([rawEntry('x', 'PaxHeaders/f', big), plainFile('f'), END]);
  t.is((await readAll(tar)).length, 1);
  await throwsTar(t, readAll(tar, { maxPaxSize: 200 }), /exceeds the limit of 200/);
  const longName = Buffer.concat([rawEntry('L', '././@LongLink', Buffer.alloc(300, 0x6c)), plainFile('f'), END]);
  await throwsTar(t, readAll(longName, { maxPaxSize: 200 }), /GNU long-name header of 300 bytes exceeds/);
  // Default 1 MiB: a header announcing 2 MiB fails without the data being present at all.
  const huge = rawEntry('x', 'PaxHeaders/f');
  const announced = patchBlock(huge, 0, (blk) => blk.write((2 << 20).toString(8).padStart(11, '0'), 124, 'latin1'));
  await throwsTar(t, readAll(announced), /PAX header of 2097152 bytes exceeds the limit of 1048576/);
});

test('meta headers: GNU L/K, PAX overrides, global headers ignored, ambiguous combinations refused', async (t) => {
  const gnu = Buffer.concat([
    rawEntry('L', '././@LongLink', Buffer.concat([b('n'.repeat(150)), Buffer.from([0])])),
    rawEntry('K', '././@LongLink', Buffer.concat([b('k'.repeat(150)), Buffer.from([0])])),
    rawEntry('2', 'truncated-name'),
    END,
  ]);
  const [g] = await readAll(gnu);
  t.is(g?.header.name.toString(), 'n'.repeat(150));
  t.is(g?.header.type, 'symlink');
  t.is(g?.header.linkname?.toString(), 'k'.repeat(150));

  const pax = Buffer.concat([
    rawEntry('x', 'PaxHeaders/f', Buffer.concat([paxRecord('path', 'over/ridden'), paxRecord('uid', '4000000000'), paxRecord('mtime', '-1.5'), paxRecord('uname', 'üser'), paxRecord('atime', '1.5'), paxRecord('LIBARCHIVE.xattr.user.x', 'eA')])),
    plainFile('f', 'body'),
    END,
  ]);
  const [p] = await readAll(pax);
  t.deepEqual(
    [p?.header.name.toString(), p?.header.uid, p?.header.mtime, p?.header.uname, p?.header.xattrs, p?.body.toString()],
    ['over/ridden', 4_000_000_000, -2, 'üser', undefined, 'body'],
  );

  const globals = Buffer.concat([
    rawEntry('g', 'pax_global_header', Buffer.concat([paxRecord('path', 'evil'), paxRecord('comment', 'x')])),
    rawEntry('g', 'foo/bar', b('this is not even a valid record')),
    plainFile('real'),
    END,
  ]);
  const read = await readAll(globals);
  t.deepEqual(read.map((e) => e.header.name.toString()), ['real']);

  const dupPax = Buffer.concat([rawEntry('x', 'a', paxRecord('path', 'one')), rawEntry('x', 'b', paxRecord('path', 'two')), plainFile('f'), END]);
  await throwsTar(t, readAll(dupPax), /two PAX headers/);
  const both = Buffer.concat([rawEntry('L', '././@LongLink', b('gnu-name')), rawEntry('x', 'a', paxRecord('path', 'pax-name')), plainFile('f'), END]);
  await throwsTar(t, readAll(both), /both a PAX and a GNU long name/);
  await throwsTar(t, readAll(Buffer.concat([rawEntry('x', 'a', paxRecord('path', 'p'))])), /unexpected EOF/);
  await throwsTar(t, readAll(Buffer.concat([rawEntry('x', 'a', paxRecord('path', 'p')), END])), /end of archive right after/);
  await throwsTar(t, readAll(Buffer.concat([rawEntry('S', 'sparse', Buffer.alloc(512)), END])), /sparse files are not supported/);
});

test('v7 and header-only types: trailing slash makes a directory; non-file sizes carry no data', async (t) => {
  const v7dir = patchBlock(rawEntry('\0', 'olddir/'), 0, (blk) => blk.fill(0, 257, 265));
  const v7file = patchBlock(rawEntry('\0', 'oldfile', b('hi')), 0, (blk) => blk.fill(0, 257, 265));
  // A hardlink header that claims a size: POSIX and Go say no data follows it.
  const sizedLink = patchBlock(rawEntry('1', 'hl'), 0, (blk) => {
    blk.write('00000001000\0', 124, 'latin1');
    blk.write('oldfile', 157, 'latin1');
  });
  const read = await readAll(Buffer.concat([v7dir, v7file, sizedLink, plainFile('after'), END]));
  t.deepEqual(
    read.map((e) => [e.header.name.toString(), e.header.type, e.header.size, e.body.toString()]),
    [
      ['olddir/', 'directory', 0, ''],
      ['oldfile', 'file', 2, 'hi'],
      ['hl', 'link', 0, ''],
      ['after', 'file', 4, 'data'],
    ],
  );
});

test('a 200 MiB entry streams in bounded memory', async (t) => {
  const size = 200 << 20;
  const chunk = Buffer.alloc(256 << 10, 0x5a);
  async function* body(): AsyncGenerator<Buffer> {
    for (let sent = 0; sent < size; sent += chunk.length) yield chunk;
  }
  const entries = [{ header: hdr('big', 'file', { size }), body: body() }, file('after', 'tail')];
  const before = process.memoryUsage().rss;
  let peak = before;
  let total = 0;
  let n = 0;
  const start = process.hrtime.bigint();
  const names: string[] = [];
  for await (const entry of readTar(writeTar(entries))) {
    names.push(entry.header.name.toString());
    for await (const c of entry.body) {
      total += c.length;
      if (++n % 64 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  peak = Math.max(peak, process.memoryUsage().rss);
  t.deepEqual(names, ['big', 'after']);
  t.is(total, size + 4);
  t.log(`writer->reader: ${(size / 2 ** 20 / seconds).toFixed(0)} MiB/s, rss growth ${((peak - before) / 2 ** 20).toFixed(1)} MiB`);
  t.true(peak - before < 64 << 20, `rss grew by ${peak - before} bytes`);
});

test('a file stream is passed through as slices, not re-chunked', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'big.tar');
  const size = 64 << 20;
  const highWaterMark = 1 << 20;
  await writeFile(path, Buffer.concat([rawEntry('0', 'f', Buffer.alloc(size, 1)), END]));
  const start = process.hrtime.bigint();
  let total = 0;
  let chunks = 0;
  for await (const { body } of readTar(createReadStream(path, { highWaterMark }))) {
    for await (const c of body) {
      total += c.length;
      chunks++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  t.is(total, size);
  t.true(chunks <= size / highWaterMark + 1, `${chunks} body chunks`);
  t.log(`file -> reader: ${(size / 2 ** 20 / seconds).toFixed(0)} MiB/s (64 MiB, includes JIT warm-up)`);
});
