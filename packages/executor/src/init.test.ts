import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { initElf, initMemfd } from './init.js';
import { close, FSCONFIG, fsconfig, fsmount, pidfdGetfd, pidfdOpen } from './libc.js';

const native = process.arch === 'x64' || process.arch === 'arm64';

test('the init is a well-formed static ELF for x64 and arm64', (t) => {
  for (const [arch, machine] of [['x64', 62], ['arm64', 183]] as const) {
    const elf = initElf(arch);
    t.deepEqual([...elf.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
    t.is(elf.readUInt16LE(16), 2, 'ET_EXEC');
    t.is(elf.readUInt16LE(18), machine);
    t.is(elf.readBigUInt64LE(24), 0x400000n + 120n, 'entry right after the headers');
    t.is(elf.readBigUInt64LE(96), BigInt(elf.length), 'one segment maps the whole file');
    t.true(elf.length < 320);
  }
  t.throws(() => initElf('ia32'), { message: /x64 and arm64/ });
});

function startInit(args: string[]) {
  const child = spawn(`/proc/self/fd/${initMemfd()}`, args, { stdio: ['pipe', 'pipe', 'ignore'] });
  const out: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  const exited = new Promise<[number | null, string | null]>((r) => child.once('exit', (c, s) => r([c, s])));
  const closed = new Promise<Buffer>((r) => child.stdout!.once('close', () => r(Buffer.concat(out))));
  return { child, exited, closed };
}

test('the init waits on its stdin, exits at EOF, and writes nothing without an argument', async (t) => {
  if (!native) return t.pass();
  const { child, exited, closed } = startInit([]);
  child.stdin!.write('data is ignored\n');
  const early = await Promise.race([exited, new Promise((r) => setTimeout(() => r('running'), 200))]);
  t.is(early, 'running');
  child.stdin!.end();
  t.deepEqual(await exited, [0, null]);
  t.is((await closed).length, 0);
});

test('with an argument, the init opens a proc filesystem context and writes its fd', async (t) => {
  if (!native || process.getuid?.() !== 0) return t.pass('needs root');
  const { child, exited } = startInit(['proc']);
  const first = await new Promise<Buffer>((r) => child.stdout!.once('data', r));
  t.is(first.length, 4);
  const fd = first.readInt32LE(0);
  t.true(fd >= 3, `fd ${fd}`);
  const pidfd = pidfdOpen(child.pid!);
  const ctx = pidfdGetfd(pidfd, fd);
  fsconfig(ctx, FSCONFIG.CMD_CREATE);
  const mnt = fsmount(ctx, 0);
  // Started in tsbuild's own PID namespace, so its /proc lists the init.
  t.true(existsSync(`/proc/self/fd/${mnt}/${child.pid}/stat`));
  for (const f of [mnt, ctx, pidfd]) close(f);
  child.stdin!.end();
  t.deepEqual(await exited, [0, null]);
});
