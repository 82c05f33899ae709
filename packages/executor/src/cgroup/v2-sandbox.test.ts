/**
 * Sandboxes placed in a cgroup v2 run cgroup, on the real kernel's unified hierarchy
 * (even a hybrid host has one): the init and the command are in the run's cgroup before
 * they run, as root and as another user, and a failure to join is a setup error. The
 * `pids` controller is simulated over the real hierarchy when it lacks one (hybrid hosts
 * keep it on v1), so that the run gets a v2 cgroup at all; placement is the kernel's.
 * Needs root.
 */
import anyTest, { type TestFn } from 'ava';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CgroupManager, hostCgroupSystem, type CgroupSystem } from '../cgroups.js';
import { createExecutor } from '../executor.js';
import { sh } from '../testing/fixture.js';
import { rootfs, sandboxSuite } from '../testing/harness.js';
import type { Executor } from '../types.js';
import { nodeCgroupFs, type CgroupFs } from './cgroupfs.js';

const host = process.getuid?.() === 0 ? hostCgroupSystem() : undefined;
const test = (host?.layout.v2 ? anyTest : anyTest.skip) as TestFn<unknown>;

/** The real cgroupfs, plus a `pids` controller where the hierarchy has none; `procs` replaces the run's cgroup.procs. */
function withPids(procs?: string): CgroupFs {
  const real = nodeCgroupFs;
  const plus = (text: string | undefined) => `${(text ?? '').trim()} pids\n`;
  return {
    ...real,
    read: (p) => (p.endsWith('/cgroup.controllers') || p.endsWith('/cgroup.subtree_control') ? plus(real.read(p)) : real.read(p)),
    write: (p, v) => (v === '+pids' || v === '-pids' || p.endsWith('/pids.max') ? undefined : real.write(p, v)),
    openForWrite: (f) => real.openForWrite(procs ?? f),
  };
}

function v2Executor(fs: CgroupFs): { ex: Executor; cgroups: CgroupManager } {
  const sys: CgroupSystem = { ...host!, fs, layout: { v2: host!.layout.v2!, v1: new Map() } };
  const cgroups = new CgroupManager(() => sys);
  return { ex: createExecutor({ poolSize: 1, cgroups }), cgroups };
}

// Each test makes the executors it needs (and closes them).
sandboxSuite(test, { executor: false });

const cgroupLine = (text: string) => text.split('\n').find((l) => l.startsWith('0::'))?.slice(3);

test.serial('the init and the command are in the run cgroup, as root and as another user', async (t) => {
  const { ex, cgroups } = v2Executor(withPids());
  try {
    for (const user of [{ uid: 0, gid: 0 }, { uid: 1000, gid: 1000 }]) {
      const r = await sh(ex, [rootfs], 'cat /proc/self/cgroup; echo @@; cat /proc/1/cgroup', { limits: { pids: 50 }, process: { user } });
      t.is(r.code, 0, r.err);
      const [self = '', init = ''] = r.out.split('@@');
      const dir = join(host!.layout.v2!.mount, cgroupLine(self)!);
      t.regex(dir, /\/tsbuild-\d+\/run-[0-9a-f]{16}$/);
      t.is(cgroupLine(init), cgroupLine(self), `uid ${user.uid}: the init is there too`);
      t.false(existsSync(dir), 'removed after the run');
    }
  } finally {
    await ex.close();
    cgroups.close();
  }
});

test.serial('a command that cannot be executed gets 126 through tsbuild-enter as without it', async (t) => {
  writeFileSync(join(rootfs, 'junk'), 'not a program\n', { mode: 0o755 });
  const { ex, cgroups } = v2Executor(withPids());
  try {
    const limited = await ex.run({ rootfs: { lowerdirs: [rootfs] }, network: 'none', limits: { pids: 10 }, process: { args: ['/junk'], env: [], cwd: '/', user: { uid: 0, gid: 0 } } });
    const plain = await ex.run({ rootfs: { lowerdirs: [rootfs] }, network: 'none', process: { args: ['/junk'], env: [], cwd: '/', user: { uid: 0, gid: 0 } } });
    t.is(limited.exitCode, 126);
    t.is(limited.setupError, plain.setupError);
    t.regex(limited.setupError ?? '', /ENOEXEC/);
  } finally {
    await ex.close();
    cgroups.close();
  }
});

test.serial('joining fails: exit 125 with the reason, nothing left running', async (t) => {
  const { ex, cgroups } = v2Executor(withPids('/dev/full'));
  try {
    const r = await sh(ex, [rootfs], 'echo never', { limits: { pids: 10 } });
    t.is(r.code, 125);
    t.is(r.out, '');
    t.regex(r.result.setupError ?? '', /joining the run's cgroup.*ENOSPC/);
  } finally {
    await ex.close();
    cgroups.close();
  }
  const own = host!.layout.v2!.own;
  t.deepEqual([own, dirname(own)].map((d) => join(d, `tsbuild-${process.pid}`)).filter((d) => existsSync(d)), [], 'the subtree is removed on close');
});
