import test from 'ava';
import { spawn } from 'node:child_process';
import { initElf, initMemfd } from './init.js';

test('the init is a well-formed static ELF for x64 and arm64', (t) => {
  for (const [arch, machine] of [['x64', 62], ['arm64', 183]] as const) {
    const elf = initElf(arch);
    t.deepEqual([...elf.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
    t.is(elf.readUInt16LE(16), 2, 'ET_EXEC');
    t.is(elf.readUInt16LE(18), machine);
    t.is(elf.readBigUInt64LE(24), 0x400000n + 120n, 'entry right after the headers');
    t.is(elf.readBigUInt64LE(96), BigInt(elf.length), 'one segment maps the whole file');
    t.true(elf.length < 256);
  }
  t.throws(() => initElf('ia32'), { message: /x64 and arm64/ });
});

test('the init waits on its stdin and exits at EOF', async (t) => {
  if (process.arch !== 'x64' && process.arch !== 'arm64') return t.pass();
  const child = spawn(`/proc/self/fd/${initMemfd()}`, [], { stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise<[number | null, string | null]>((r) => child.once('exit', (c, s) => r([c, s])));
  child.stdin!.write('data is ignored\n');
  const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r('running'), 200))]);
  t.is(early, 'running');
  child.stdin!.end();
  t.deepEqual(await exited, [0, null]);
});
