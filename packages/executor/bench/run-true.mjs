#!/usr/bin/env node
/**
 * Per-run overhead of the sandbox: `run(['/bin/true'])` on a busybox rootfs.
 * Not a test. Run as root after `npx tsc -b`:  node bench/run-true.mjs [runs] [poolSize] [network]
 * (network: host (default), none, or private: a network of its own, prewarmed by the
 * pool as a build's executor does)
 *
 * Reports three figures:
 *  - warm: one run at a time with a short pause between, so a pre-started worker is
 *    always ready (the latency a single RUN step sees);
 *  - back-to-back: runs started one after another without pause (bounded by how fast
 *    replacement workers start);
 *  - cold: a fresh executor's first run (worker start included).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createExecutor } from '../dist/index.js';

const runs = Number(process.argv[2] ?? 50);
const poolSize = Number(process.argv[3] ?? 2);
const network = process.argv[4] ?? 'host';
const prewarmNetwork = network === 'private';
const dir = mkdtempSync(join(tmpdir(), 'tsbuild-bench-'));
const rootfs = join(dir, 'rootfs');
for (const d of ['bin', 'etc', 'proc', 'dev', 'sys', 'tmp']) mkdirSync(join(rootfs, d), { recursive: true });
copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
execFileSync('chroot', [rootfs, '/bin/busybox', 'ln', '-s', '/bin/busybox', '/bin/true']);

let n = 0;
function request() {
  const upper = join(dir, `u${n}`);
  const work = join(dir, `w${n++}`);
  mkdirSync(upper);
  mkdirSync(work);
  return {
    rootfs: { lowerdirs: [rootfs], upperdir: upper, workdir: work },
    process: { args: ['/bin/true'], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } },
    network,
  };
}

function stats(name, xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1);
  console.log(`${name.padEnd(13)} n=${s.length}  median ${q(0.5)} ms  p90 ${q(0.9)} ms  min ${s[0].toFixed(1)} ms`);
}

const cold = [];
for (let i = 0; i < 5; i++) {
  const ex = createExecutor({ poolSize: 1, prewarmNetwork });
  const t = performance.now();
  const r = await ex.run(request());
  cold.push(performance.now() - t);
  if (r.exitCode !== 0) throw new Error(JSON.stringify(r));
  await ex.close();
}

const ex = createExecutor({ poolSize, prewarmNetwork });
await sleep(300);
const warm = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  const r = await ex.run(request());
  warm.push(performance.now() - t);
  if (r.exitCode !== 0) throw new Error(JSON.stringify(r));
  await sleep(60);
}
const b2b = [];
const t0 = performance.now();
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  await ex.run(request());
  b2b.push(performance.now() - t);
}
const total = performance.now() - t0;
await ex.close();
rmSync(dir, { recursive: true, force: true });

stats('warm', warm);
stats('back-to-back', b2b);
console.log(`${''.padEnd(13)} ${runs} runs in ${total.toFixed(0)} ms = ${(total / runs).toFixed(1)} ms/run`);
stats('cold', cold);
