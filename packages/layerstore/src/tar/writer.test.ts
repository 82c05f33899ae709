import { lstat, mkdir, readFile, readdir, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import test from 'ava';
import { writeTar, type TarWriteEntry } from './writer.js';
import { archive, b, collect, file, hdr, readAll, run, tempDir, throwsTar } from './test-helpers.js';

test('each entry is header + body + padding, then two zero blocks', async (t) => {
  const chunks: Buffer[] = [];
  for await (const c of writeTar([file('a', 'hello'), { header: hdr('d/', 'directory') }])) chunks.push(c);
  const out = Buffer.concat(chunks);
  t.is(out.length, 512 + 512 + 512 + 1024);
  t.is(out.subarray(512, 517).toString(), 'hello');
  t.true(out.subarray(517, 1024).equals(Buffer.alloc(507)), 'body padded with zeros');
  t.true(out.subarray(out.length - 1024).equals(Buffer.alloc(1024)));
  t.is((await archive([])).length, 1024, 'an empty archive is just the end marker');
});

test('bodies may be Buffers, async iterables or Node streams', async (t) => {
  const big = Buffer.alloc(100_000, 0x5a);
  async function* gen(): AsyncGenerator<Buffer> {
    yield b('ab');
    yield Buffer.alloc(0);
    yield new Uint8Array([0x63]) as Buffer;
  }
  async function* entries(): AsyncGenerator<TarWriteEntry> {
    yield { header: hdr('gen', 'file', { size: 3 }), body: gen() };
    yield { header: hdr('stream', 'file', { size: big.length }), body: Readable.from([big.subarray(0, 70_000), big.subarray(70_000)]) };
    yield file('big-buffer', big);
  }
  const read = await readAll(await archive(entries()));
  t.deepEqual(
    read.map((e) => [e.header.name.toString(), e.body.length]),
    [['gen', 3], ['stream', 100_000], ['big-buffer', 100_000]],
  );
  t.is(read[0]!.body.toString(), 'abc');
  t.true(read[1]!.body.equals(big));
});

test('output is deterministic', async (t) => {
  const entries = () => [
    file('x'.repeat(300), 'data', { xattrs: new Map([['user.b', b('2')], ['user.a', b('1')]]), uid: 1 << 28 }),
    { header: hdr('link', 'symlink', { linkname: b('y'.repeat(200)) }) },
  ];
  t.deepEqual(await archive(entries()), await archive(entries()));
});

test('a body whose length differs from header.size fails', async (t) => {
  await throwsTar(t, archive([{ header: hdr('short', 'file', { size: 10 }), body: b('abc') }]), /body is 3 bytes but the header says 10/);
  await throwsTar(t, archive([{ header: hdr('long', 'file', { size: 1 }), body: b('abc') }]), /body is 3 bytes/);
  await throwsTar(t, archive([{ header: hdr('none', 'file', { size: 1 }) }]), /body is 0 bytes/);

  // A streamed body that overruns fails before the extra bytes are emitted, and is closed.
  let closed = false;
  async function* overrun(): AsyncGenerator<Buffer> {
    try {
      yield b('12345');
      yield b('67890');
      yield b('never');
    } finally {
      closed = true;
    }
  }
  const emitted: Buffer[] = [];
  const err = await throwsTar(
    t,
    (async () => {
      for await (const c of writeTar([{ header: hdr('over', 'file', { size: 7 }), body: overrun() }])) emitted.push(c);
    })(),
    /at least 10 bytes/,
  );
  t.is(err?.entry, 'over');
  t.is(Buffer.concat(emitted).length, 512 + 5, 'only the header and the first chunk were emitted');
  t.true(closed);
  await throwsTar(t, archive([{ header: hdr('under', 'file', { size: 7 }), body: Readable.from([b('123')]) }]), /body is 3 bytes/);
});

test('entries may be a sync or an async iterable; bad headers fail the stream', async (t) => {
  t.is((await collect(writeTar(new Set([file('a', 'x')])))).length, 512 * 2 + 1024);
  await throwsTar(t, archive([{ header: hdr('bad\0name') }]), /NUL/);
});

/** Entries that exercise every type and the PAX/prefix paths, for GNU tar to read. */
function interopEntries(): TarWriteEntry[] {
  const deep = `${'p'.repeat(120)}/${'q'.repeat(90)}`; // ustar prefix split
  const paxDir = `${'d'.repeat(200)}/${'e'.repeat(200)}/`; // PAX path (no split possible)
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  return [
    { header: hdr('dir/', 'directory', { mode: 0o1777 }) },
    file('dir/suid', '#!/bin/sh\n', { mode: 0o4755, uid: 3_000_000, gid: 2_500_000 }),
    file('dir/xattr', 'x', { xattrs: new Map([['user.bin', all], ['user.text', b('hello')]]) }),
    { header: hdr('dir/hard', 'link', { linkname: b('dir/suid') }) },
    { header: hdr('dir/sym', 'symlink', { linkname: b('../target/that/does/not/exist') }) },
    { header: hdr('dir/fifo', 'fifo', { mode: 0o600 }) },
    { header: hdr(`${deep.split('/')[0]}/`, 'directory') },
    file(deep, 'prefix'),
    { header: hdr(paxDir.slice(0, 201), 'directory') },
    { header: hdr(paxDir, 'directory') },
    file(`${paxDir}f`, 'pax'),
    { header: hdr('longlink', 'symlink', { linkname: b('L'.repeat(300)) }) },
    file(Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe]), 'fe'),
    file(Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfd]), 'fd'),
    file('old', 'epoch', { mtime: -86400 }),
  ];
}

test('GNU tar lists our archives', async (t) => {
  const dir = await tempDir(t);
  const tarFile = join(dir, 'out.tar');
  await writeFile(tarFile, await archive([...interopEntries(), { header: hdr('dev/null', 'char', { devmajor: 1, devminor: 3, mode: 0o666 }) }]));
  const listing = (await run('tar', ['--quoting-style=literal', '-tvvf', tarFile])).toString('latin1').split('\n');
  const line = (suffix: string) => listing.find((l) => l.endsWith(` ${suffix}`)) ?? '';
  t.regex(line('dir/'), /^drwxrwxrwt /);
  t.regex(line('dir/suid'), /^-rwsr-xr-x 3000000\/2500000 +10 /);
  t.regex(line('dir/hard link to dir/suid'), /^h/);
  t.regex(line('dir/sym -> ../target/that/does/not/exist'), /^l/);
  t.regex(line('dir/fifo'), /^prw------- /);
  t.regex(line('dev/null'), /^crw-rw-rw- .* 1,3 /);
  t.truthy(line(`${'p'.repeat(120)}/${'q'.repeat(90)}`));
  t.truthy(line(`${'d'.repeat(200)}/${'e'.repeat(200)}/f`));
  t.truthy(line(`longlink -> ${'L'.repeat(300)}`));
  t.regex(line('old'), /1969-12-31/);
  t.truthy(line('bad\xff\xfe'));
  t.truthy(line('bad\xff\xfd'));
  t.false(listing.some((l) => l.includes('PaxHeader')), 'PAX headers are consumed, not listed');
});

test('GNU tar extracts our archives byte-exact', async (t) => {
  const dir = await tempDir(t);
  const tarFile = join(dir, 'out.tar');
  const root = join(dir, 'root');
  await writeFile(tarFile, await archive(interopEntries()));
  await mkdir(root);
  await run('tar', ['--xattrs', '--xattrs-include=*', '--same-permissions', '--same-owner', '-xf', tarFile, '-C', root]);

  const suid = await lstat(join(root, 'dir/suid'));
  t.is(suid.mode & 0o7777, 0o4755);
  t.is((await lstat(join(root, 'dir'))).mode & 0o7777, 0o1777);
  if (process.getuid?.() === 0) t.deepEqual([suid.uid, suid.gid], [3_000_000, 2_500_000]);
  t.is((await lstat(join(root, 'dir/hard'))).ino, suid.ino, 'hardlink shares the inode');
  t.is(await readlink(join(root, 'dir/sym')), '../target/that/does/not/exist');
  t.is(await readlink(join(root, 'longlink')), 'L'.repeat(300));
  t.true((await lstat(join(root, 'dir/fifo'))).isFIFO());
  t.is(await readFile(join(root, 'p'.repeat(120), 'q'.repeat(90)), 'utf8'), 'prefix');
  t.is(await readFile(join(root, 'd'.repeat(200), 'e'.repeat(200), 'f'), 'utf8'), 'pax');
  t.is((await lstat(join(root, 'old'))).mtimeMs, -86400 * 1000);
  const names = (await readdir(root, { encoding: 'buffer' })).filter((n) => n.subarray(0, 3).equals(b('bad')));
  t.deepEqual(names.map((n) => n.toString('hex')).sort(), ['626164fffd', '626164fffe']);
  for (const n of names) {
    const content = await readFile(Buffer.concat([b(`${root}/`), n]), 'utf8');
    t.is(content, n.subarray(4).toString('hex'), 'each non-UTF-8 name kept its own content');
  }

  // xattrs: have GNU tar archive the extracted file again and read it back with our reader.
  const again = await run('tar', ['--xattrs', '--xattrs-include=user.*', '--format=pax', '-C', root, '-cf', '-', 'dir/xattr']);
  const [entry] = await readAll(again);
  t.deepEqual(entry?.header.xattrs?.get('user.bin'), Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
  t.deepEqual(entry?.header.xattrs?.get('user.text'), b('hello'));
});
