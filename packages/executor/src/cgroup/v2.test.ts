/**
 * tsbuild's cgroup v2 subtree on the real kernel: the unified hierarchy, wherever this
 * host mounts it (/sys/fs/cgroup/unified on hybrid hosts, which has no controllers we
 * limit with; /sys/fs/cgroup in the CI guests). A child process placed in a fresh cgroup
 * opens the subtree as tsbuild does (testing/v2-child.ts): alone there it nests and moves
 * itself into a leaf, next to another process it goes beside, killed it leaves a subtree
 * the next one removes. Needs root.
 */
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { hostCgroupSystem } from '../cgroups.js';

const v2 = process.getuid?.() === 0 ? hostCgroupSystem().layout.v2 : undefined;
const test = (v2 ? anyTest : anyTest.skip) as TestFn<unknown>;
const CHILD = new URL('../testing/v2-child.js', import.meta.url).pathname;

/**
 * Where the test makes its cgroups: below its own when that is the real root (hybrid
 * hosts), else beside it, where the parent can hand controllers down (the CI guests'
 * /ci.slice enables every controller; the test's own cgroup holds processes).
 */
const home = v2 && !existsSync(join(v2.own, 'cgroup.type')) ? v2.own : dirname(v2?.own ?? '/');
/** memory and pids where the hierarchy has them (the guests), else none (a hybrid host's v2). */
const limitable = v2 ? ['memory', 'pids'].filter((c) => readFileSync(join(home, 'cgroup.subtree_control'), 'utf8').split(/\s+/).includes(c)).join(' ') : '';

let n = 0;
/** A fresh cgroup for a child to start in. */
function freshCgroup(): string {
  const dir = join(home, `tsbuild-test-${process.pid}-${n++}`);
  mkdirSync(dir);
  return dir;
}

/** A fresh cgroup another process (a sleep) already holds, as a CI job's does; both gone when the test ends. */
function sharedCgroup(t: ExecutionContext): string {
  const cg = freshCgroup();
  const other = spawn('sleep', ['600'], { stdio: 'ignore' });
  writeFileSync(join(cg, 'cgroup.procs'), String(other.pid));
  t.teardown(async () => {
    other.kill('SIGKILL');
    await new Promise((r) => other.once('exit', r));
    rmdirSync(cg);
  });
  return cg;
}

/** cgroup paths as /proc/<pid>/cgroup shows them. */
const rel = (dir: string) => `/${relative(v2!.mount, dir)}`;

function child(mode: 'close' | 'crash', cgroup: string): { proc: ChildProcess; lines: Promise<Array<Record<string, string>>>; exit: Promise<NodeJS.Signals | number | null> } {
  const proc = spawn(process.execPath, [CHILD, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  writeFileSync(join(cgroup, 'cgroup.procs'), String(proc.pid));
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  // 'close', not 'exit': only then has all of its stdout been read (a child killed right
  // after it printed can 'exit' before its last line arrives).
  const exit = new Promise<NodeJS.Signals | number | null>((resolve) => proc.once('close', (code, signal) => resolve(signal ?? code)));
  proc.stdin!.write('go\n');
  return { proc, exit, lines: exit.then(() => out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>)) };
}

test('alone in its cgroup: tsbuild moves into a supervisor leaf below it, and back on close', async (t) => {
  const cg = freshCgroup();
  const c = child('close', cg);
  const [opened, closed] = await c.lines;
  t.is(await c.exit, 0);
  const base = join(cg, `tsbuild-${c.proc.pid}`);
  // Controllers enabled in its old cgroup, which now holds no process, reach the run cgroup.
  t.deepEqual(opened, { mode: 'nested', base, cgroup: rel(join(base, 'supervisor')), parentControllers: limitable, runControllers: limitable });
  t.deepEqual(closed, { cgroup: rel(cg), parentControllers: '' }, 'disabled again, and back home');
  t.deepEqual(readdirSync(cg, { withFileTypes: true }).filter((d) => d.isDirectory()), [], 'nothing left');
  rmdirSync(cg);
});

test('sharing its cgroup with another process: the subtree goes next to it', async (t) => {
  const cg = sharedCgroup(t);
  const c = child('close', cg);
  const [opened, closed] = await c.lines;
  t.is(await c.exit, 0);
  t.like(opened, { mode: 'sibling', base: join(dirname(cg), `tsbuild-${c.proc.pid}`), cgroup: rel(cg), runControllers: limitable });
  t.like(closed, { cgroup: rel(cg) });
  t.false(existsSync(opened!.base!));
});

/**
 * Beside a shared cgroup (a CI job's), where the next tsbuild starts in the same place.
 * (Nested below a cgroup of its own, the subtree goes with that cgroup: its owner,
 * systemd or the container runtime, removes it when the unit or container ends.)
 */
test('killed, it leaves its subtree; the next tsbuild there removes it', async (t) => {
  const cg = sharedCgroup(t);
  const first = child('crash', cg);
  const [opened] = await first.lines;
  t.is(await first.exit, 'SIGKILL');
  t.is(opened!.mode, 'sibling');
  t.true(existsSync(join(opened!.base!, 'run-test')), 'left behind by the crash');
  const second = child('close', cg);
  await second.lines;
  t.is(await second.exit, 0);
  t.false(existsSync(opened!.base!), 'swept by the next one');
});
