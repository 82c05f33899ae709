/**
 * A process for the real-kernel tests of tsbuild's cgroup v2 subtree (cgroup/v2.test.ts):
 * the test puts it into a cgroup of its choice, then writes a line to its stdin. It opens
 * the subtree there as tsbuild would, enables memory and pids where they are available,
 * prints one JSON line (mode, base, its own cgroup, the controllers enabled in the
 * subtree's parent and base), then either closes the subtree and prints the same again
 * (`close`), or dies by SIGKILL (`crash`), leaving the subtree to be swept by the next one.
 */
import { readFileSync } from 'node:fs';
import { hostCgroupSystem } from '../cgroups.js';
import { V2Subtree } from '../cgroup/v2-subtree.js';

const ownCgroup = () => readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))!.slice(3);
const words = (text: string | undefined) => (text ?? '').split(/\s+/).filter(Boolean).sort().join(' ');

process.stdin.once('data', () => {
  const sys = hostCgroupSystem();
  const v2 = sys.layout.v2!;
  const subtree = V2Subtree.open({ fs: sys.fs, mount: v2.mount, own: v2.own, pid: sys.pid, alive: sys.alive }, 'pids');
  const available = words(sys.fs.read(`${subtree.parent}/cgroup.controllers`)).split(' ');
  for (const c of ['memory', 'pids'] as const) if (available.includes(c)) subtree.enable(c, 'pids');
  const run = `${subtree.base}/run-test`;
  sys.fs.mkdir(run);
  const state = () => ({ cgroup: ownCgroup(), parentControllers: words(sys.fs.read(`${subtree.parent}/cgroup.subtree_control`)) });
  // eslint-disable-next-line no-restricted-syntax -- a test's child program: its JSON lines on the stdout pipe are what cgroup/v2.test.ts reads
  process.stdout.write(`${JSON.stringify({ mode: subtree.mode, base: subtree.base, ...state(), runControllers: words(sys.fs.read(`${run}/cgroup.controllers`)) })}\n`);
  if (process.argv[2] === 'crash') process.kill(process.pid, 'SIGKILL');
  subtree.close();
  // eslint-disable-next-line no-restricted-syntax -- a test's child program: its JSON lines on the stdout pipe are what cgroup/v2.test.ts reads
  process.stdout.write(`${JSON.stringify(state())}\n`);
  process.stdin.destroy();
});
