/**
 * Memory stays flat while a large stream is compressed: gzip and zstd of 64-384 MiB,
 * each in a fresh child process that makes the input on the fly, decompresses the
 * output on the fly to check it (nothing is held whole), and reports its peak RSS
 * (VmHWM, the kernel's high-water mark).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const MiB = 1 << 20;
const here = (name: string) => new URL(name, import.meta.url).href;

/** The child: compress `mib` MiB of generated data, check it decompresses back, print JSON. */
const CHILD = `
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { DecompressStream } from 'zstd-napi';
import { compressor } from '${here('./compress.js')}';
import { data7bit } from '${here('./testdata.js')}';
const [format, mib] = [process.argv[1], Number(process.argv[2])];
const inHash = createHash('sha256');
const outHash = createHash('sha256');
let compressed = 0;
const source = Readable.from((function* () {
  for (let i = 0; i < mib; i++) {
    const piece = data7bit(${MiB}, i);
    inHash.update(piece);
    yield piece;
  }
})());
const count = new Writable({ write(c, _e, cb) { compressed += c.length; cb(null); } });
await pipeline(source, compressor(format), async function* (chunks) {
  for await (const c of chunks) {
    count.write(c);
    yield c;
  }
}, format === 'gzip' ? createGunzip() : new DecompressStream(), new Writable({ write(c, _e, cb) { outHash.update(c); cb(null); } }));
const peak = Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
console.log(JSON.stringify({ peak, compressed, same: inHash.digest('hex') === outHash.digest('hex') }));
`;

interface Result {
  peak: number;
  compressed: number;
  same: boolean;
}

function child(format: 'gzip' | 'zstd', mib: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const cwd = fileURLToPath(new URL('../../', import.meta.url));
    const p = spawn(process.execPath, ['--input-type=module', '-e', CHILD, format, String(mib)], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Result) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

// zstd's 8 MiB chunks take longer to reach their steady state (more chunk buffers, and
// V8 collects the large output buffers lazily): compare it from 128 MiB on.
const SIZES = { gzip: [64, 192], zstd: [128, 384] } as const;
/** Allowed growth of the peak between the two sizes (a whole input would add 2 * lo). */
const SLACK = { gzip: 48 * MiB, zstd: 64 * MiB } as const;

for (const format of ['gzip', 'zstd'] as const) {
  const [lo, hi] = SIZES[format];
  test.serial(`${format}: ${hi} MiB streams through with about the memory of ${lo} MiB`, async (t) => {
    const small = await child(format, lo);
    const big = await child(format, hi);
    t.true(small.same && big.same, 'decompresses to the input');
    t.true(big.compressed < hi * MiB && big.compressed > 0.8 * hi * MiB);
    const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    t.log(`${format}: peak RSS ${mib(small.peak)} for ${lo} MiB, ${mib(big.peak)} for ${hi} MiB`);
    t.true(big.peak < small.peak + SLACK[format], `three times the input: peak ${mib(big.peak)} vs ${mib(small.peak)}`);
  });
}
