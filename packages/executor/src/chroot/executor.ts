/**
 * The chroot executor: the isolation that needs neither namespaces nor mounts, for
 * containers started with docker's default capabilities (CAP_SYS_CHROOT, CAP_SETUID,
 * CAP_SETGID, CAP_CHOWN, CAP_MKNOD, CAP_FOWNER, CAP_DAC_OVERRIDE) and seccomp profile.
 *
 * One run: the lower directories are copied into a private root (snapshot.ts) in the
 * request's work dir (on the upper dir's filesystem, so changes move by rename), the
 * run's own files are put in (root-files.ts), the command runs chrooted there by a
 * single-use runner process (runner.ts, runners.ts: a process chroots itself without
 * unshare(2), which docker's seccomp profile refuses), every process it left is killed
 * (sweep.ts), its
 * changes are written into the upper dir in overlay form (changes.ts), and the private
 * root is removed. The Executor contract holds, except:
 *
 * - network: the host's (the container's). `private` (BuildKit's default for RUN) runs
 *   there too, told once through `onNotice`; `none` and published ports are refused;
 * - limits: refused with a CgroupUnavailableError (no cgroups are used);
 * - mounts: read-only binds are copies, tmpfs an empty directory, writable binds refused;
 * - no /proc, /sys, /dev/pts or hostname of its own; a read-only root is refused.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgroupUnavailableError, ExecutorError } from '../errors.js';
import { fallbacksFrom, FALLBACKS_ENV } from '../features.js';
import { closeRangeProbe, CLOSE_RANGE_CLOEXEC } from '../libc.js';
import { pipeStdin } from '../stdin.js';
import type { Executor, Limits, RunRequest, RunResult } from '../types.js';
import { writeChanges } from './changes.js';
import type { ChrootPlan, FromChroot, Prepared } from './protocol.js';
import { discard, RunnerPool, type Runner } from './runners.js';
import { sweep } from './sweep.js';
import { hostResolvConf } from '../host-resolv-conf.js';
import { bytesOf, exitOf } from '../sandbox/output.js';

export interface ChrootOptions {
  poolSize?: number;
  /** Told once per executor what the mode changes for a request (the network). */
  onNotice?: (message: string) => void;
}

/** Runs in progress (their runner and command), killed and their roots removed if tsbuild exits meanwhile. */
const live = new Map<string, RunState>();

interface RunState {
  runner?: number;
  pid?: number;
  /** The private root, and the directory made for it when the request has no work dir. */
  dirs: string[];
}
let exitHook = false;
function onExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const [root, run] of live) {
      if (run.runner !== undefined) kill(run.runner);
      sweep(run.pid, root);
      for (const d of run.dirs) rmSync(d, { recursive: true, force: true });
    }
  });
}

let cloexecProbe: boolean | undefined;

/**
 * close_range(CLOSE_RANGE_CLOEXEC) works here, unless TSBUILD_SANDBOX_FALLBACKS turns it
 * off (features.ts: the other kernel features are the sandbox's, which this mode cannot probe).
 */
function closeRangeCloexec(): boolean {
  cloexecProbe ??= closeRangeProbe(0xfffffffe, 0xffffffff, CLOSE_RANGE_CLOEXEC) === 0;
  return cloexecProbe && !fallbacksFrom(process.env[FALLBACKS_ENV]).includes('closeRangeCloexec');
}

export function createChrootExecutor(opts: ChrootOptions = {}): Executor {
  return new ChrootExecutor(opts);
}

class ChrootExecutor implements Executor {
  private readonly pool: RunnerPool;
  private readonly running = new Set<{ kill(): void; finished: Promise<unknown> }>();
  private closed = false;
  private noticed = false;

  constructor(private readonly opts: ChrootOptions) {
    if (process.getuid?.() !== 0) throw new ExecutorError('TSBUILD_SANDBOX_UNSUPPORTED', 'chroot isolation needs root (CAP_SYS_CHROOT and the right to set ids)');
    this.pool = new RunnerPool(opts.poolSize ?? 1);
  }

  async run(req: RunRequest): Promise<RunResult> {
    const cancelled = () => new ExecutorError('TSBUILD_CANCELLED', this.closed ? 'the executor is closed' : 'run cancelled', { cause: req.signal?.reason });
    if (this.closed || req.signal?.aborted) throw cancelled();
    this.check(req);
    const started = performance.now();
    const { upperdir, workdir } = req.rootfs;
    const base = workdir ?? mkdtempSync(join(tmpdir(), 'tsbuild-run-'));
    const root = join(base, `chroot-${randomBytes(6).toString('hex')}`);
    mkdirSync(root, { mode: 0o755 });
    const dirs = [root, ...(workdir === undefined ? [base] : [])];
    const real = realpathSync(root);
    const state: RunState = { dirs };
    live.set(real, state);
    onExit();
    let ran = false;
    try {
      const hostname = req.process.hostname ?? 'tsbuild';
      const plan: ChrootPlan = {
        root: real,
        lowerdirs: req.rootfs.lowerdirs,
        files: {
          hosts: req.etcHosts ?? `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
          resolvConf: req.resolvConf ?? hostResolvConf(),
          hostname: `${hostname}\n`,
        },
        mounts: req.mounts ?? [],
        process: { args: req.process.args, env: req.process.env, cwd: req.process.cwd, user: req.process.user },
        stdin: req.stdin && req.stdin !== 'ignore' ? 'pipe' : 'ignore',
        closeRangeCloexec: closeRangeCloexec(),
      };
      const taken = await this.pool.take();
      if (this.closed || req.signal?.aborted) {
        await discard(taken.child);
        this.pool.refill();
        throw cancelled();
      }
      ran = true;
      const { result, prepared } = await this.supervise(taken, plan, req, state);
      // In tsbuild: comparing is fast and new entries move by rename (see changes.ts).
      if (upperdir !== undefined && prepared) {
        writeChanges(real, req.rootfs.lowerdirs, upperdir, new Map(prepared.baseline), { paths: new Set(prepared.ignored.paths), created: new Set(prepared.ignored.created) }, req.rootfs.whiteouts ?? 'device');
      }
      return { ...result, durationMs: performance.now() - started };
    } finally {
      // The runner and the command are gone by now: the command's pid no longer names the run, its root still does.
      if (ran) sweep(undefined, real);
      for (const d of dirs) await rm(d, { recursive: true, force: true });
      live.delete(real);
    }
  }

  /** What this mode cannot do, refused before anything is made. */
  private check(req: RunRequest): void {
    if (req.rootfs.upperdir !== undefined && req.rootfs.workdir === undefined) throw new ExecutorError('TSBUILD_SANDBOX_SETUP', 'rootfs.workdir is required with rootfs.upperdir');
    const limit = firstLimit(req.limits);
    if (limit) throw new CgroupUnavailableError(limit, `${limit}: resource limits need cgroups, which chroot isolation does not use (run where the sandbox can start: tsbuild info says what is missing)`);
    if (req.network === 'none') throw new ExecutorError('TSBUILD_SANDBOX_UNSUPPORTED', "network 'none' needs a network namespace, which chroot isolation cannot create: the command would reach the network (tsbuild info says what is missing for the sandbox)");
    if (req.ports && req.ports.length > 0) throw new ExecutorError('TSBUILD_SANDBOX_UNSUPPORTED', 'publishing ports needs the sandbox: in chroot isolation the command uses the host\'s network, so it listens on the host\'s ports itself');
    if (req.rootfs.readonly) throw new ExecutorError('TSBUILD_SANDBOX_UNSUPPORTED', 'a read-only root needs the sandbox: chroot isolation cannot mount');
    if (req.network === 'private' && !this.noticed) {
      this.noticed = true;
      this.opts.onNotice?.("chroot isolation has no network namespace: commands asking for a network of their own use the host's network");
    }
  }

  private supervise(runner: Runner, plan: ChrootPlan, req: RunRequest, state: RunState): Promise<{ result: Omit<RunResult, 'durationMs'>; prepared?: Prepared }> {
    const child = runner.child;
    state.runner = runner.pid;
    let prepared: Prepared | undefined;
    let outcome: { result: Omit<RunResult, 'durationMs'> } | { error: ExecutorError } | undefined;
    let cancelled = false;
    // What the command left, not the runner (chrooted there too) while it still reports.
    const sweepRun = () => {
      if (state.pid !== undefined) sweep(state.pid, plan.root, runner.pid);
    };
    const onAbort = () => {
      if (outcome) return;
      cancelled = true;
      // Still copying or running: the runner goes first (its watchdog then kills the command's group).
      kill(runner.pid);
      if (state.pid !== undefined) sweep(state.pid, plan.root);
    };
    let refilled = false;
    const refill = () => {
      if (!refilled) this.pool.refill();
      refilled = true;
    };
    child.on('message', (m: FromChroot) => {
      switch (m.type) {
        case 'prepared':
          prepared = m;
          break;
        case 'started':
          state.pid = m.pid;
          refill();
          if (cancelled) onAbort();
          break;
        case 'stdout':
          req.onStdout?.(bytesOf(m.data));
          break;
        case 'stderr':
          req.onStderr?.(bytesOf(m.data));
          break;
        case 'exited': {
          // The command is a zombie until the runner reaps it: its pid names its session and group.
          sweepRun();
          outcome = { result: exitOf(m) };
          break;
        }
        case 'failed':
          refill();
          outcome = m.code === 'TSBUILD_SANDBOX_UNSUPPORTED' ? { error: new ExecutorError(m.code, m.message) } : { result: { exitCode: m.exitCode, setupError: m.message } };
          break;
        case 'done':
          break;
      }
    });
    // Every message has arrived once the channel is closed, and the runner is gone once it exited.
    const finished = Promise.all([
      new Promise((resolve) => child.once('disconnect', resolve)),
      new Promise((resolve) => child.once('exit', resolve)),
    ]).then(() => refill());
    child.on('error', (err) => {
      outcome ??= { error: new ExecutorError('TSBUILD_SANDBOX_SETUP', `chroot runner failed: ${err.message}`, { cause: err }) };
      onAbort();
    });
    const entry = { kill: onAbort, finished };
    this.running.add(entry);
    req.signal?.addEventListener('abort', onAbort, { once: true });
    runner.send({ type: 'run', plan });
    const stopStdin = pipeStdin(req.stdin, runner.send);
    return finished.then(() => {
      stopStdin();
      req.signal?.removeEventListener('abort', onAbort);
      this.running.delete(entry);
      state.runner = undefined;
      // A runner that died before it reported the exit may leave the command behind.
      if (!outcome) sweepRun();
      if (cancelled) throw new ExecutorError('TSBUILD_CANCELLED', 'run cancelled', { cause: req.signal?.reason });
      if (!outcome) throw new ExecutorError('TSBUILD_SANDBOX_SETUP', `chroot runner ended (${child.signalCode ?? child.exitCode}) without a result${runner.stderr() ? `: ${runner.stderr().trim()}` : ''}`);
      if ('error' in outcome) throw outcome.error;
      return { result: outcome.result, ...(prepared ? { prepared } : {}) };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const running = [...this.running];
    for (const r of running) r.kill();
    await Promise.allSettled(running.map((r) => r.finished));
    await this.pool.close();
  }
}

/** SIGKILL a runner (it may be gone). */
function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

function firstLimit(limits: Limits | undefined): string | undefined {
  if (!limits) return undefined;
  return Object.entries(limits).find(([, v]) => v !== undefined)?.[0];
}

