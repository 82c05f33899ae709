/**
 * One cgroup per run that has limits, under tsbuild's own cgroup so the limits of whoever
 * runs tsbuild still apply, removed after the run. Runs without limits touch no cgroup.
 *
 * Each controller a run needs is used where the host has it: a cgroup v1 hierarchy
 * (v1 and hybrid hosts; cgroup/v1-tree.ts) or the unified v2 hierarchy (systemd hosts,
 * containers; cgroup/v2-subtree.ts). How the sandbox ends up inside:
 *
 * - v1: the main thread writes the worker thread's TID into `tasks` before the worker
 *   spawns anything, so the sandbox's init and command are born inside; once the command
 *   has started the worker thread is moved back.
 * - v2 places whole processes only. The run's `cgroup.procs` is opened here and its fd
 *   handed to the worker (`RunCgroup.procsFd`): the worker writes the init's pid to it
 *   right after spawning it (nothing else of the sandbox exists yet), and the command
 *   joins by itself before it runs any of its own code (cgroup/enter.ts).
 *
 * The sandbox's init counts as one process, so pids.max is the requested limit + 1.
 * `oomKilled()` reads the kernel's OOM-kill counter of the run's memory cgroup
 * (memory.events on v2, memory.oom_control on v1).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CgroupUnavailableError, ExecutorError } from './errors.js';
import type { Limits } from './types.js';
import { errnoOf, keyed, nodeCgroupFs, words, type CgroupFs } from './cgroup/cgroupfs.js';
import { parseLayout, type CgroupLayout } from './cgroup/layout.js';
import { checkLimits, controllersFor, LIMIT_NAMES, v1Settings, v2Settings, type Controller, type LimitKey, type Setting } from './cgroup/settings.js';
import { V1Tree } from './cgroup/v1-tree.js';
import { explain, removeTree, V2Subtree } from './cgroup/v2-subtree.js';

export interface RunCgroup {
  /** Every cgroup directory of the run. */
  readonly paths: readonly string[];
  /** v2: an fd open for writing on the run cgroup's cgroup.procs (close-on-exec). */
  readonly procsFd: number | undefined;
  /** v1: move a thread of tsbuild in (before spawning) or back out. */
  enterThread(tid: number): void;
  leaveThread(tid: number): void;
  /** The command has started: v1 tightens pids.max (the worker thread has left). */
  started(): void;
  /** Whether the kernel OOM-killed a process of the run. */
  oomKilled(): boolean;
  remove(): Promise<void>;
}

/** What the cgroup code works on: injectable, so tests can give a fake cgroupfs and layout. */
export interface CgroupSystem {
  fs: CgroupFs;
  layout: CgroupLayout;
  pid: number;
  alive(pid: number): boolean;
}

export function hostCgroupSystem(): CgroupSystem {
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  return {
    fs: nodeCgroupFs,
    layout: parseLayout(read('/proc/self/mountinfo'), read('/proc/self/cgroup')),
    pid: process.pid,
    alive: (pid) => existsSync(`/proc/${pid}`),
  };
}

type Placement = { version: 1; own: string } | { version: 2 };

export class CgroupManager {
  private sys: CgroupSystem | undefined;
  private v2: V2Subtree | undefined;
  private v1: V1Tree | undefined;

  /** `system` defaults to the host's, read on first use. */
  constructor(private readonly system: () => CgroupSystem = hostCgroupSystem) {}

  /** The run's cgroup, or undefined when it has no limits. */
  create(id: string, limits: Limits | undefined): RunCgroup | undefined {
    if (!limits) return undefined;
    const needed = controllersFor(limits);
    if (needed.size === 0) return undefined;
    checkLimits(limits);
    const sys = (this.sys ??= this.system());
    const where = new Map<Controller, Placement>();
    for (const [c, limit] of needed) where.set(c, this.locate(sys, c, limit));
    this.onExit();
    const run = new Run(sys.fs, limits);
    try {
      for (const [c, p] of where) {
        if (p.version === 1) run.v1Dirs.set(c, { own: p.own, dir: this.v1Tree(sys).makeRun(p.own, id, c === 'cpuset', needed.get(c)!) });
      }
      const v2 = [...where].filter(([, p]) => p.version === 2).map(([c]) => c);
      if (v2.length > 0) {
        const first = needed.get(v2[0]!)!;
        this.v2 ??= V2Subtree.open({ fs: sys.fs, mount: sys.layout.v2!.mount, own: sys.layout.v2!.own, pid: sys.pid, alive: sys.alive }, first);
        for (const c of v2) this.v2.enable(c, needed.get(c)!);
        const dir = join(this.v2.base, `run-${id}`);
        try {
          sys.fs.mkdir(dir);
        } catch (err) {
          throw new CgroupUnavailableError(first, `cannot apply the ${LIMIT_NAMES[first]} limit: ${explain(err, 'create cgroups', this.v2.base)}`, { cause: err });
        }
        run.v2Dir = dir;
      }
      run.apply();
      if (run.v2Dir !== undefined) run.procsFd = sys.fs.openForWrite(join(run.v2Dir, 'cgroup.procs'));
    } catch (err) {
      run.discard();
      throw err;
    }
    return run;
  }

  /** Remove tsbuild's cgroups and undo its changes (synchronous; run at process exit). */
  close(): void {
    open.delete(this);
    this.v2?.close();
    this.v2 = undefined;
    this.v1?.close();
  }

  private v1Tree(sys: CgroupSystem): V1Tree {
    return (this.v1 ??= new V1Tree(sys.fs, sys.pid, sys.alive));
  }

  private locate(sys: CgroupSystem, c: Controller, limit: LimitKey): Placement {
    const own = sys.layout.v1.get(c);
    if (own !== undefined) return { version: 1, own };
    const v2 = sys.layout.v2;
    const v2Has = v2 ? words(sys.fs.read(join(v2.mount, 'cgroup.controllers'))) : [];
    if (v2 && v2Has.includes(c)) return { version: 2 };
    const name = `cannot apply the ${LIMIT_NAMES[limit]} limit`;
    if (!v2 && sys.layout.v1.size === 0) {
      throw new CgroupUnavailableError(limit, `${name}: no cgroup hierarchy is mounted (or tsbuild's cgroup is outside what is); mount one, e.g. mount -t cgroup2 none /sys/fs/cgroup`);
    }
    const have = [
      ...(v2 ? [`cgroup v2 at ${v2.mount} has ${v2Has.join(' ') || 'none'}`] : []),
      ...(sys.layout.v1.size > 0 ? [`cgroup v1 has ${[...sys.layout.v1.keys()].join(' ')}`] : []),
    ];
    throw new CgroupUnavailableError(limit, `${name}: no cgroup hierarchy here has the ${c} controller (${have.join('; ')}); the kernel needs it enabled (CONFIG_MEMCG, CONFIG_CGROUP_PIDS, ...; not cgroup_disable=${c})`);
  }

  private onExit(): void {
    if (!exitHook) process.on('exit', () => open.forEach((m) => m.close()));
    exitHook = true;
    open.add(this);
  }
}

/** Managers that made cgroups, closed when the process exits. */
const open = new Set<CgroupManager>();
let exitHook = false;

class Run implements RunCgroup {
  readonly v1Dirs = new Map<Controller, { own: string; dir: string }>();
  v2Dir: string | undefined;
  procsFd: number | undefined;

  constructor(
    private readonly fs: CgroupFs,
    private readonly limits: Limits,
  ) {}

  get paths(): string[] {
    return [...new Set([...[...this.v1Dirs.values()].map((d) => d.dir), ...(this.v2Dir ? [this.v2Dir] : [])])];
  }

  /** Write every setting where its controller lives. */
  apply(): void {
    const v1 = v1Settings(this.limits).filter((s) => this.v1Dirs.has(s.controller));
    const v2 = this.v2Dir === undefined ? [] : v2Settings(this.limits).filter((s) => !this.v1Dirs.has(s.controller));
    for (const s of v1) this.set(this.v1Dirs.get(s.controller)!.dir, s);
    for (const s of v2) this.set(this.v2Dir!, s);
    // v1: the worker thread is in the pids cgroup too while it spawns the sandbox.
    const pids = this.v1Dirs.get('pids');
    if (pids && this.limits.pids !== undefined) this.fs.write(join(pids.dir, 'pids.max'), String(this.limits.pids + 2));
  }

  private set(dir: string, s: Setting): void {
    const file = join(dir, s.file);
    if (s.optional && this.fs.read(file) === undefined) return;
    try {
      this.fs.write(file, s.value);
    } catch (err) {
      const why =
        errnoOf(err) === 'ENOENT'
          ? `this kernel has no ${s.file} (${s.controller === 'memory' ? 'swap accounting is off: swapaccount=1, CONFIG_MEMCG_SWAP' : `the ${s.controller} controller lacks it`})`
          : errnoOf(err) === 'EINVAL' || errnoOf(err) === 'ERANGE'
            ? `the kernel refused ${JSON.stringify(s.value)} for ${s.file}${s.controller === 'cpuset' ? ` (this cgroup may use ${(this.fs.read(join(dir, '..', `${s.file}.effective`)) ?? this.fs.read(join(dir, '..', s.file)) ?? '?').trim()})` : ''}`
            : explain(err, `write ${s.file}`, dir);
      throw new CgroupUnavailableError(s.limit, `cannot apply the ${LIMIT_NAMES[s.limit]} limit: ${why}`, { cause: err });
    }
  }

  enterThread(tid: number): void {
    for (const { dir } of this.v1Dirs.values()) this.fs.write(join(dir, 'tasks'), String(tid));
  }

  leaveThread(tid: number): void {
    for (const { own } of this.v1Dirs.values()) {
      try {
        this.fs.write(join(own, 'tasks'), String(tid));
      } catch {
        /* the thread has ended */
      }
    }
  }

  started(): void {
    const pids = this.v1Dirs.get('pids');
    if (pids && this.limits.pids !== undefined) this.fs.write(join(pids.dir, 'pids.max'), String(this.limits.pids + 1));
  }

  oomKilled(): boolean {
    const v1 = this.v1Dirs.get('memory');
    const text = v1 ? this.fs.read(join(v1.dir, 'memory.oom_control')) : this.v2Dir && this.limits.memoryBytes !== undefined ? this.fs.read(join(this.v2Dir, 'memory.events')) : undefined;
    return (keyed(text).get('oom_kill') ?? 0) > 0;
  }

  /** Synchronous cleanup of a run that never started. */
  discard(): void {
    if (this.procsFd !== undefined) this.fs.close(this.procsFd);
    this.procsFd = undefined;
    for (const dir of this.paths) removeTree(this.fs, dir);
  }

  async remove(): Promise<void> {
    if (this.procsFd !== undefined) this.fs.close(this.procsFd);
    this.procsFd = undefined;
    for (const dir of this.paths) await removeDir(this.fs, dir);
  }
}

/** rmdir, waiting out EBUSY while the last processes of the sandbox finish exiting. */
async function removeDir(fs: CgroupFs, dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      fs.rmdir(dir);
      return;
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || i >= 100) throw new ExecutorError('TSBUILD_SANDBOX_SETUP', `cgroup: cannot remove ${dir}`, { cause: err });
      await sleep(20);
    }
  }
}

let shared: CgroupManager | undefined;

/** The process's cgroup manager over the host's hierarchies. */
export function hostCgroups(): CgroupManager {
  return (shared ??= new CgroupManager());
}
