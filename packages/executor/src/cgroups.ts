/**
 * One cgroup per run that has limits, nested under tsbuild's own cgroup so the limits
 * of whoever runs tsbuild still apply, and removed after the run.
 *
 * cgroup v1 (a hierarchy per controller): `<mount><own path>/tsbuild/<id>` in each
 * controller that a limit needs. The main thread writes the worker thread's TID into
 * `tasks` before the worker spawns anything, so the sandbox's init and command are born
 * inside; once the command is started the worker thread is moved back.
 *
 * cgroup v2 (one hierarchy; a cgroup with processes cannot enable controllers for its
 * children): `<parent of own>/tsbuild/<id>`. A single thread cannot be moved on v2 and
 * Node cannot spawn into a cgroup (clone3 CLONE_INTO_CGROUP), so the init and the command
 * are moved after spawning and their descendants swept in until stable. The window:
 * what the command forks or allocates in the first moments (before the main thread gets
 * the "started" message) is outside the limits. Untested here (this machine is v1).
 *
 * The sandbox's init counts as one process, so pids.max is the requested limit + 1.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExecutorError } from './errors.js';
import type { Limits } from './types.js';

const ROOT = '/sys/fs/cgroup';
const PERIOD = 100_000;

export interface Cgroup {
  readonly paths: readonly string[];
  /** v1: move a thread of tsbuild in (before spawning) or back out. */
  enterThread(tid: number): void;
  leaveThread(tid: number): void;
  /** The command has started: v1 tightens pids.max, v2 moves the processes in. */
  started(pids: number[]): void;
  remove(): Promise<void>;
}

function checkLimits(l: Limits): void {
  const bad = (what: string) => new ExecutorError('TSBUILD_SANDBOX_SETUP', `invalid ${what} limit`);
  if (l.memoryBytes !== undefined && !(Number.isSafeInteger(l.memoryBytes) && l.memoryBytes > 0)) throw bad('memory');
  if (l.cpus !== undefined && !(Number.isFinite(l.cpus) && l.cpus > 0)) throw bad('cpus');
  if (l.pids !== undefined && !(Number.isSafeInteger(l.pids) && l.pids > 0)) throw bad('pids');
}

function write(file: string, value: string | number, optional = false): void {
  try {
    writeFileSync(file, String(value));
  } catch (err) {
    if (optional) return;
    throw new ExecutorError('TSBUILD_SANDBOX_SETUP', `cgroup: cannot write ${value} to ${file}`, { cause: err });
  }
}

async function removeDir(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || i >= 100) throw new ExecutorError('TSBUILD_SANDBOX_SETUP', `cgroup: cannot remove ${dir}`, { cause: err });
      await sleep(20);
    }
  }
}

/** `/proc/self/cgroup` lines: hierarchy id, controllers, path. */
function ownCgroups(): Array<{ controllers: string[]; path: string }> {
  return readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').map((l) => {
    const [, ctl = '', ...p] = l.split(':');
    return { controllers: ctl.split(',').filter(Boolean), path: p.join(':') };
  });
}

/** Where a v1 controller is mounted and the mount's root, from `/proc/self/mountinfo`. */
function v1Mount(controller: string): { dir: string; root: string } | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const [type, , superOpts = ''] = right.split(' ');
    if (type !== 'cgroup' || !superOpts.split(',').includes(controller)) continue;
    const f = left.split(' ');
    return { root: f[3]!, dir: f[4]!.replace(/\\040/g, ' ') };
  }
  return undefined;
}

function createV1(id: string, limits: Limits): Cgroup {
  const own = ownCgroups();
  const dirs = new Map<string, { dir: string; parent: string }>();
  const need = [limits.memoryBytes !== undefined && 'memory', limits.cpus !== undefined && 'cpu', limits.pids !== undefined && 'pids'].filter((c): c is string => !!c);
  for (const c of need) {
    const m = v1Mount(c);
    const mine = own.find((o) => o.controllers.includes(c));
    if (!m || !mine) throw new ExecutorError('TSBUILD_SANDBOX_UNSUPPORTED', `cgroup v1 controller ${c} is not mounted`);
    const rel = mine.path.startsWith(m.root) ? mine.path.slice(m.root.length) : mine.path;
    const parent = join(m.dir, rel);
    dirs.set(c, { parent, dir: join(parent, 'tsbuild', id) });
  }
  for (const { dir } of dirs.values()) mkdirSync(dir, { recursive: true });
  const at = (c: string, file: string) => join(dirs.get(c)!.dir, file);
  const cg: Cgroup = {
    paths: [...dirs.values()].map((d) => d.dir),
    enterThread: (tid) => dirs.forEach(({ dir }) => write(join(dir, 'tasks'), tid)),
    leaveThread: (tid) => dirs.forEach(({ parent }) => write(join(parent, 'tasks'), tid, true)),
    started: () => {
      if (limits.pids !== undefined) write(at('pids', 'pids.max'), limits.pids + 1);
    },
    remove: async () => {
      for (const { dir } of dirs.values()) await removeDir(dir);
    },
  };
  try {
    if (limits.memoryBytes !== undefined) {
      write(at('memory', 'memory.limit_in_bytes'), limits.memoryBytes);
      write(at('memory', 'memory.memsw.limit_in_bytes'), limits.memoryBytes, true);
      write(at('memory', 'memory.swappiness'), 0, true);
    }
    if (limits.cpus !== undefined) {
      write(at('cpu', 'cpu.cfs_period_us'), PERIOD);
      write(at('cpu', 'cpu.cfs_quota_us'), Math.max(1000, Math.round(limits.cpus * PERIOD)));
    }
    // The worker thread and the init are inside while the command is spawned.
    if (limits.pids !== undefined) write(at('pids', 'pids.max'), limits.pids + 2);
  } catch (err) {
    void cg.remove().catch(() => {});
    throw err;
  }
  return cg;
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    let kids = '';
    try {
      kids = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const k of kids.split(' ').filter(Boolean).map(Number)) out.push(k, ...descendants(k));
  }
  return out;
}

function createV2(id: string, limits: Limits): Cgroup {
  const own = ownCgroups().find((o) => o.controllers.length === 0)?.path ?? '/';
  const base = join(ROOT, own === '/' ? '/' : dirname(own), 'tsbuild');
  const dir = join(base, id);
  const controllers = [limits.memoryBytes !== undefined && '+memory', limits.cpus !== undefined && '+cpu', limits.pids !== undefined && '+pids'].filter(Boolean);
  try {
    mkdirSync(base, { recursive: true });
    writeFileSync(join(base, 'cgroup.subtree_control'), controllers.join(' '));
    mkdirSync(dir);
  } catch (err) {
    throw new ExecutorError('TSBUILD_SANDBOX_UNSUPPORTED', `cgroup v2: cannot create ${dir} with ${controllers.join(' ')}`, { cause: err });
  }
  const move = (pid: number) => write(join(dir, 'cgroup.procs'), pid, true);
  const cg: Cgroup = {
    paths: [dir],
    enterThread: () => {},
    leaveThread: () => {},
    started: (pids) => {
      const seen = new Set<number>();
      for (let pass = 0; pass < 10; pass++) {
        const all = pids.flatMap((p) => [p, ...descendants(p)]).filter((p) => !seen.has(p));
        if (all.length === 0) break;
        for (const p of all) {
          seen.add(p);
          move(p);
        }
      }
    },
    remove: () => removeDir(dir),
  };
  try {
    if (limits.memoryBytes !== undefined) {
      write(join(dir, 'memory.max'), limits.memoryBytes);
      write(join(dir, 'memory.swap.max'), 0, true);
    }
    if (limits.cpus !== undefined) write(join(dir, 'cpu.max'), `${Math.max(1000, Math.round(limits.cpus * PERIOD))} ${PERIOD}`);
    if (limits.pids !== undefined) write(join(dir, 'pids.max'), limits.pids + 1);
  } catch (err) {
    void cg.remove().catch(() => {});
    throw err;
  }
  return cg;
}

/** The run's cgroup, or undefined when it has no limits. */
export function createCgroup(id: string, limits: Limits | undefined): Cgroup | undefined {
  if (!limits || (limits.memoryBytes === undefined && limits.cpus === undefined && limits.pids === undefined)) return undefined;
  checkLimits(limits);
  return existsSync(join(ROOT, 'cgroup.controllers')) ? createV2(id, limits) : createV1(id, limits);
}
