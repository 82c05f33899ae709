/**
 * The init's bytes are its source, assembled: each source in init-code.ts goes through
 * GNU as and objcopy again and must give the same .text. Skipped (and shown as skipped)
 * where the assembler for an architecture is not installed (Debian: binutils, and
 * binutils-aarch64-linux-gnu for arm64).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INIT_CODE } from './init-code.js';

const TOOLS: Record<'x64' | 'arm64', Array<[as: string, objcopy: string]>> = {
  x64: [['x86_64-linux-gnu-as', 'x86_64-linux-gnu-objcopy'], ...(process.arch === 'x64' ? [['as', 'objcopy'] as [string, string]] : [])],
  arm64: [['aarch64-linux-gnu-as', 'aarch64-linux-gnu-objcopy'], ...(process.arch === 'arm64' ? [['as', 'objcopy'] as [string, string]] : [])],
};

const installed = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;

function assemble(source: string, [as, objcopy]: [string, string]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsbuild-init-asm-'));
  try {
    writeFileSync(join(dir, 'init.s'), source);
    for (const [cmd, args] of [[as, ['-o', 'init.o', 'init.s']], [objcopy, ['-O', 'binary', '-j', '.text', 'init.o', 'init.bin']]] as const) {
      const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
    }
    return readFileSync(join(dir, 'init.bin')).toString('hex');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const arch of ['x64', 'arm64'] as const) {
  const tools = TOOLS[arch].find(([as, objcopy]) => installed(as) && installed(objcopy));
  const title = `the ${arch} init is its source, assembled`;
  if (!tools) {
    test.skip(`${title} (no assembler for ${arch}: ${TOOLS[arch].map(([as]) => as).join(' or ')})`, () => {});
    continue;
  }
  test(title, (t) => {
    t.is(assemble(INIT_CODE[arch].source, tools), INIT_CODE[arch].hex, `${tools[0]} gives other bytes: update the hex in init-code.ts`);
  });
}
