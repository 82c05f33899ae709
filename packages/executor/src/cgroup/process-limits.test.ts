/**
 * cgroup v2 limits on plain processes, without a sandbox: a run cgroup made by the
 * CgroupManager over the host's hierarchy, a process spawned into it through
 * tsbuild-enter. Runs where memory and pids are on v2 (systemd hosts, the CI guests);
 * skipped on v1 and hybrid hosts, where limits.test.ts covers v1. Needs root.
 */
import anyTest, { type TestFn } from 'ava';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupManager } from '../cgroups.js';
import { CLD, P, waitid } from '../libc.js';
import { spawnCommand } from '../sandbox/spawn.js';
import { versionOf } from '../testing/cgroup-paths.js';
import type { Limits } from '../types.js';
import { enterMemfd, spawnInCgroup } from './enter.js';

const ok = process.getuid?.() === 0 && versionOf('memory') === 2 && versionOf('pids') === 2;
const test = (ok ? anyTest : anyTest.skip) as TestFn<unknown>;
const MiB = 1 << 20;
const cgroups = new CgroupManager();
anyTest.after.always(() => cgroups.close());

let n = 0;
/** Start busybox with `args` in a new run cgroup with `limits`; it runs on while the test looks. */
function start(limits: Limits, args: string[]) {
  const cg = cgroups.create(`test${n++}`, limits)!;
  const devnull = openSync('/dev/null', 'w');
  try {
    const p = spawnInCgroup({ procsFd: cg.procsFd!, enterFd: enterMemfd() }, (via) => spawnCommand('/bin/busybox', ['busybox', ...args], ['PATH=/bin'], { stdout: devnull, stderr: devnull }, via));
    return { cg, dir: cg.paths[0]!, pidfd: p.pidfd };
  } finally {
    closeSync(devnull);
  }
}

test('over memory.max the process is OOM-killed (SIGKILL, exit status 137) and the run says so', async (t) => {
  const { cg, pidfd } = start({ memoryBytes: 32 * MiB }, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=100M', 'count=1']);
  const st = waitid(P.PIDFD, pidfd, 0)!;
  closeSync(pidfd);
  t.deepEqual(st, { code: CLD.KILLED, status: 9 });
  t.true(cg.oomKilled());
  await cg.remove();
});

test('a fork bomb stops at pids.max', async (t) => {
  const { cg, dir, pidfd } = start({ pids: 16 }, ['sh', '-c', 'bomb() { bomb | bomb & }; bomb; sleep 600']);
  // pids.events counts the forks refused at the limit: wait for the first refusal.
  const events = join(dir, 'pids.events');
  await new Promise<void>((resolve) => {
    const check = () => (/^max [1-9]/m.test(readFileSync(events, 'utf8')) ? resolve() : setImmediate(check));
    check();
  });
  t.true(Number(readFileSync(join(dir, 'pids.current'), 'utf8')) <= 17);
  writeFileSync(join(dir, 'cgroup.kill'), '1');
  waitid(P.PIDFD, pidfd, 0);
  closeSync(pidfd);
  await cg.remove();
});
