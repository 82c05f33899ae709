/** The reader against archives written by GNU tar itself, in each of its formats. */
import { appendFile, chmod, chown, link, mkdir, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { archive, b, chunked, file, readAll, run, tempDir, throwsTar } from './test-helpers.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

/** A source tree with the features each GNU tar format can store. */
async function makeTree(root: string, format: 'gnu' | 'pax' | 'ustar'): Promise<void> {
  await mkdir(join(root, 'dir'), { recursive: true });
  await chmod(join(root, 'dir'), 0o1777);
  await writeFile(join(root, 'dir/suid'), '#!/bin/sh\n');
  await chmod(join(root, 'dir/suid'), 0o4755);
  await link(join(root, 'dir/suid'), join(root, 'dir/hard'));
  await symlink('../target', join(root, 'dir/sym'));
  await mkdir(join(root, 'a'.repeat(90)));
  await writeFile(join(root, 'a'.repeat(90), 'b'.repeat(90)), 'prefix');
  await writeFile(Buffer.from(`${root}/bad\xff\xfe`, 'latin1'), 'fe');
  await writeFile(Buffer.from(`${root}/bad\xff\xfd`, 'latin1'), 'fd');
  await run('mkfifo', [join(root, 'fifo')]);
  if (format === 'ustar') return;
  await mkdir(join(root, 'd'.repeat(200), 'e'.repeat(200)), { recursive: true });
  await writeFile(join(root, 'd'.repeat(200), 'e'.repeat(200), 'f'), 'long');
  await symlink('t'.repeat(300), join(root, 'longlink'));
  await writeFile(join(root, 'old'), 'o');
  await run('touch', ['-h', '-d', '@-100', join(root, 'old')]); // Node's utimes turns negative times into 'now'
  if (process.getuid?.() === 0) await chown(join(root, 'old'), 3_000_000, 4_000_000);
}

for (const format of ['gnu', 'pax', 'ustar'] as const) {
  test(`reads GNU tar --format=${format} archives`, async (t) => {
    const dir = await tempDir(t);
    await makeTree(join(dir, 'src'), format);
    const tarBytes = await run('tar', [`--format=${format}`, '-C', join(dir, 'src'), '-cf', '-', '.']);
    const entries = await readAll(chunked(tarBytes, 4096));
    const byName = new Map(entries.map((e) => [e.header.name.toString('latin1'), e]));
    const get = (n: string) => byName.get(n)?.header;

    t.is(get('./dir/')?.type, 'directory');
    t.is(get('./dir/')?.mode, 0o1777);
    // Whichever of the two names GNU tar met first is the file, the other a hardlink to it.
    const pair = [get('./dir/suid'), get('./dir/hard')];
    const first = pair.find((h) => h?.type === 'file');
    const second = pair.find((h) => h?.type === 'link');
    t.is(first?.type, 'file');
    t.is(first?.mode, 0o4755);
    t.is(second?.type, 'link');
    t.deepEqual(second?.linkname, first?.name);
    t.is(byName.get(first!.name.toString('latin1'))?.body.toString(), '#!/bin/sh\n');
    t.deepEqual(get('./dir/sym')?.linkname, b('../target'));
    t.is(byName.get(`./${'a'.repeat(90)}/${'b'.repeat(90)}`)?.body.toString(), 'prefix');
    t.is(byName.get('./bad\xff\xfe')?.body.toString(), 'fe');
    t.is(byName.get('./bad\xff\xfd')?.body.toString(), 'fd');
    t.is(get('./fifo')?.type, 'fifo');
    if (format !== 'ustar') {
      t.is(byName.get(`./${'d'.repeat(200)}/${'e'.repeat(200)}/f`)?.body.toString(), 'long');
      t.deepEqual(get('./longlink')?.linkname, b('t'.repeat(300)));
      t.is(get('./old')?.mtime, -100);
      if (process.getuid?.() === 0) t.deepEqual([get('./old')?.uid, get('./old')?.gid], [3_000_000, 4_000_000]);
    }
    t.is(entries.length, format === 'ustar' ? 10 : 15);
  });
}

test('reads GNU tar --xattrs archives (binary values, security.capability)', async (t) => {
  const dir = await tempDir(t);
  const root = join(dir, 'root');
  await mkdir(root);
  const cap = Buffer.from('0100000200200000000000000000000000000000', 'hex');
  const ours = await archive([
    file('bin', 'x', { mode: 0o755, xattrs: new Map([['user.bin', ALL_BYTES], ['security.capability', cap]]) }),
  ]);
  await writeFile(join(dir, 'in.tar'), ours);
  await run('tar', ['--xattrs', '--xattrs-include=*', '-xf', join(dir, 'in.tar'), '-C', root]);
  const again = await run('tar', ['--xattrs', '--xattrs-include=*', '--format=pax', '-C', root, '-cf', '-', 'bin']);
  t.true(again.includes(b('SCHILY.xattr.user.bin=')), 'GNU tar wrote the xattr record');
  const [entry] = await readAll(again);
  t.deepEqual(entry?.header.xattrs?.get('user.bin'), ALL_BYTES);
  if (process.getuid?.() === 0) t.deepEqual(entry?.header.xattrs?.get('security.capability'), cap);
});

test('GNU tar sparse archives are refused (old GNU and PAX sparse)', async (t) => {
  const dir = await tempDir(t);
  const sparse = join(dir, 'sparse');
  await writeFile(sparse, '');
  await truncate(sparse, 4 << 20);
  await appendFile(sparse, 'end');
  for (const args of [['--format=gnu'], ['--format=pax'], ['--format=pax', '--sparse-version=1.0']]) {
    const tarBytes = await run('tar', [...args, '--sparse', '-C', dir, '-cf', '-', 'sparse']);
    await throwsTar(t, readAll(tarBytes), /sparse files are not supported/, args.join(' '));
  }
});

test('reads GNU tar v7 archives', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'src/sub'), { recursive: true });
  await writeFile(join(dir, 'src/sub/f'), 'v7');
  const tarBytes = await run('tar', ['--format=v7', '-C', join(dir, 'src'), '-cf', '-', 'sub']);
  const read = await readAll(tarBytes);
  t.deepEqual(read.map((e) => [e.header.name.toString(), e.header.type, e.body.toString()]), [
    ['sub/', 'directory', ''],
    ['sub/f', 'file', 'v7'],
  ]);
});

