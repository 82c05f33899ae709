/**
 * tsbuild's cgroup v2 subtree on the real kernel: the unified hierarchy, wherever this
 * host mounts it (/sys/fs/cgroup/unified on hybrid hosts, which has no controllers we
 * limit with; /sys/fs/cgroup in the CI guests). A child process placed in a fresh cgroup
 * opens the subtree as tsbuild does (testing/v2-child.ts): alone there it nests and moves
 * itself into a leaf, next to another process it goes beside, killed it leaves a subtree
 * the next one removes. Needs root.
 */
import anyTest, { type TestFn } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { hostCgroupSystem } from '../cgroups.js';

const v2 = process.getuid?.() === 0 ? hostCgroupSystem().layout.v2 : undefined;
const test = (v2 ? anyTest : anyTest.skip) as TestFn<unknown>;
const CHILD = new URL('../testing/v2-child.js', import.meta.url).pathname;

let n = 0;
/** A fresh cgroup below the test's own. */
function freshCgroup(): string {
  const dir = join(v2!.own, `tsbuild-test-${process.pid}-${n++}`);
  mkdirSync(dir);
  return dir;
}

/** cgroup paths as /proc/<pid>/cgroup shows them. */
const rel = (dir: string) => `/${relative(v2!.mount, dir)}`;

function child(mode: 'close' | 'crash', cgroup: string): { proc: ChildProcess; lines: Promise<Array<Record<string, string>>>; exit: Promise<NodeJS.Signals | number | null> } {
  const proc = spawn(process.execPath, [CHILD, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  writeFileSync(join(cgroup, 'cgroup.procs'), String(proc.pid));
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  const exit = new Promise<NodeJS.Signals | number | null>((resolve) => proc.once('exit', (code, signal) => resolve(signal ?? code)));
  proc.stdin!.write('go\n');
  return { proc, exit, lines: exit.then(() => out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>)) };
}

test('alone in its cgroup: tsbuild moves into a supervisor leaf below it, and back on close', async (t) => {
  const cg = freshCgroup();
  const c = child('close', cg);
  const [opened, closed] = await c.lines;
  t.is(await c.exit, 0);
  const base = join(cg, `tsbuild-${c.proc.pid}`);
  t.deepEqual(opened, { mode: 'nested', base, cgroup: rel(join(base, 'supervisor')) });
  t.deepEqual(closed, { cgroup: rel(cg) });
  t.deepEqual(readdirSync(cg, { withFileTypes: true }).filter((d) => d.isDirectory()), [], 'nothing left');
  rmdirSync(cg);
});

test('sharing its cgroup with another process: the subtree goes next to it', async (t) => {
  const cg = freshCgroup();
  const other = spawn('sleep', ['600'], { stdio: 'ignore' });
  writeFileSync(join(cg, 'cgroup.procs'), String(other.pid));
  try {
    const c = child('close', cg);
    const [opened, closed] = await c.lines;
    t.is(await c.exit, 0);
    t.deepEqual(opened, { mode: 'sibling', base: join(dirname(cg), `tsbuild-${c.proc.pid}`), cgroup: rel(cg) });
    t.deepEqual(closed, { cgroup: rel(cg) });
    t.false(existsSync(opened!.base!));
  } finally {
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
    rmdirSync(cg);
  }
});

test('killed, it leaves its subtree; the next tsbuild there removes it', async (t) => {
  const cg = freshCgroup();
  const first = child('crash', cg);
  const [opened] = await first.lines;
  t.is(await first.exit, 'SIGKILL');
  t.true(existsSync(join(opened!.base!, 'supervisor')), 'left behind by the crash');
  t.true(existsSync(join(opened!.base!, 'run-test')));
  const second = child('close', cg);
  await second.lines;
  t.is(await second.exit, 0);
  t.false(existsSync(opened!.base!), 'swept by the next one');
  rmdirSync(cg);
});
