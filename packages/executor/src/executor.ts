/**
 * The real executor: runs each request in a fresh sandbox on a single-use worker thread
 * (worker.ts) and does, on the main thread, what needs tsbuild's own credentials: the
 * cgroup, killing the sandbox (SIGKILL to its init ends the whole PID namespace), the
 * user-mode networking helper of a private network (network/), and the cleanup that
 * makes the upper dir exactly the command's changes.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { enterMemfd } from './cgroup/enter.js';
import { hostCgroups, type CgroupManager, type RunCgroup } from './cgroups.js';
import { createChrootExecutor } from './chroot/executor.js';
import { ExecutorError } from './errors.js';
import { kernelFeatures } from './features.js';
import { initMemfd } from './init.js';
import { resolveIsolation, type Isolation } from './isolation.js';
import { close, P, pidfdSendSignal, W, waitid } from './libc.js';
import { chooseHelper, type Helper } from './network/helpers.js';
import { sandboxLayout } from './network/layout.js';
import { checkPorts } from './network/ports.js';
import { sandboxResolvConf } from './network/resolv-conf.js';
import { claimPrewarmed, prewarmingPool } from './network/prewarm.js';
import { helpersReaped, UserNetwork } from './network/user-network.js';
import { discard, WorkerPool } from './pool.js';
import type { FromWorker, SandboxPlan, StubRecord, ToWorker } from './protocol.js';
import { userNamespace } from './rootless/namespace.js';
import { removeStubs } from './stubs.js';
import { copyRoot, finishCopiedRoot, type CopiedRoot } from './sandbox/copied-root.js';
import { pipeStdin } from './stdin.js';
import { hostResolvConf } from './host-resolv-conf.js';
import type { Executor, RunRequest, RunResult } from './types.js';
import { bytesOf, exitOf } from './sandbox/output.js';

const SIGKILL = 9;

/**
 * What must not outlive tsbuild if it exits while sandboxes run (process.exit() from a
 * signal handler, say): their inits, killed (which kills each whole sandbox), and their
 * throwaway upper dirs. A `kill -9` leaves the dirs, but not the processes: the inits
 * die with tsbuild (init.ts).
 */
const live = { inits: new Set<number>(), dirs: new Set<string>() };
let exitHook = false;
function onExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const fd of live.inits) {
      try {
        pidfdSendSignal(fd, SIGKILL);
      } catch {
        /* exiting anyway */
      }
    }
    for (const dir of live.dirs) rmSync(dir, { recursive: true, force: true });
  });
}


export interface ExecutorOptions {
  /** Sandbox workers kept started and idle (default 2). */
  poolSize?: number;
  /** Where runs with limits get their cgroups (default: the host's hierarchies; tests inject others). */
  cgroups?: CgroupManager;
  /**
   * The user-mode networking helper of `private` networks: 'slirp4netns' or 'pasta'.
   * Default: $TSBUILD_NETWORK_HELPER, else the first installed (network/helpers.ts).
   */
  networkHelper?: string;
  /**
   * Runs will mostly want `network: 'private'`: each idle worker makes its network and
   * starts its helper ahead of time, so a run finds it ready (a build's RUN steps; see
   * sandbox/network.ts). Ignored when no helper is installed.
   */
  prewarmNetwork?: boolean;
  /**
   * How runs are isolated (isolation.ts): `sandbox` (the default), `chroot`, or `auto`
   * (the sandbox where it can start, else chroot; probed once per process). Throws an
   * IsolationUnavailableError when the mode cannot run here.
   */
  isolation?: Isolation;
  /** Told once what a mode other than the sandbox does differently for a request (chroot: the network). */
  onNotice?: (message: string) => void;
}

export function createExecutor(opts: ExecutorOptions = {}): Executor {
  // `rootless` is the sandbox, run as root of tsbuild's user namespace (makePlan says so).
  const mode = resolveIsolation(opts.isolation ?? (userNamespace() ? 'rootless' : 'sandbox')).mode;
  if (mode === 'chroot') return createChrootExecutor({ poolSize: opts.poolSize ?? 2, ...(opts.onNotice ? { onNotice: opts.onNotice } : {}) });
  return new SandboxExecutor(opts.poolSize ?? 2, opts.cgroups ?? hostCgroups(), opts.networkHelper, opts.prewarmNetwork ?? false);
}

class SandboxExecutor implements Executor {
  private readonly pool: WorkerPool;
  private readonly running = new Set<{ kill(): void; finished: Promise<unknown> }>();
  private mountpoint: string | undefined;
  private closed = false;

  constructor(
    poolSize: number,
    private readonly cgroups: CgroupManager,
    private readonly networkHelper: string | undefined,
    prewarm: boolean,
  ) {
    if (process.getuid?.() !== 0) throw new ExecutorError('TSBUILD_SANDBOX_UNSUPPORTED', 'the sandbox needs root');
    initMemfd();
    kernelFeatures(); // a kernel without what the sandbox needs fails here, by name
    this.pool = new WorkerPool(poolSize, prewarm ? prewarmingPool(this.helperWanted()) : {});
  }

  private helperWanted(): string | undefined {
    return this.networkHelper ?? (process.env.TSBUILD_NETWORK_HELPER || undefined);
  }

  async run(req: RunRequest): Promise<RunResult> {
    const cancelled = () => new ExecutorError('TSBUILD_CANCELLED', this.closed ? 'the executor is closed' : 'run cancelled', { cause: req.signal?.reason });
    if (this.closed || req.signal?.aborted) throw cancelled();
    const started = performance.now();
    const id = randomBytes(8).toString('hex');
    if (req.rootfs.upperdir !== undefined && req.rootfs.workdir === undefined) throw new ExecutorError('TSBUILD_SANDBOX_SETUP', 'rootfs.workdir is required with rootfs.upperdir');
    if (req.rootfs.whiteouts === 'xattr') throw new ExecutorError('TSBUILD_SANDBOX_UNSUPPORTED', "rootfs.whiteouts 'xattr' needs chroot isolation: the sandbox's overlayfs records deletions as 0:0 devices (a store where those cannot be made is on overlayfs, where the sandbox cannot run)");
    checkPorts(req.network, req.ports);
    const helper = req.network === 'private' ? chooseHelper(this.helperWanted()) : undefined;
    const throwaway = req.rootfs.upperdir === undefined ? mkdtempSync(join(tmpdir(), 'tsbuild-run-')) : undefined;
    if (throwaway) {
      for (const d of ['upper', 'work']) mkdirSync(join(throwaway, d));
      live.dirs.add(throwaway);
      onExit();
    }
    this.mountpoint ??= sandboxMountpoint();
    const plan = makePlan(req, this.mountpoint, throwaway, helper);
    let cgroup: RunCgroup | undefined;
    let copied: CopiedRoot | undefined;
    try {
      // Rootless where overlayfs cannot be mounted in a user namespace: a copied root (sandbox/copied-root.ts).
      if (plan.userns && !plan.kernel.overlayInUserns) live.dirs.add((plan.rootfs.copied = (copied = copyRoot(plan.rootfs.lowerdirs)).dir));
      try {
        cgroup = this.cgroups.create(id, req.limits);
      } catch (err) {
        if (err instanceof ExecutorError && err.code === 'TSBUILD_SANDBOX_SETUP') return { exitCode: 125, setupError: err.message, durationMs: performance.now() - started };
        throw err;
      }
      if (cgroup?.procsFd !== undefined) plan.cgroup = { procsFd: cgroup.procsFd, enterFd: enterMemfd() };
      const taken = await this.pool.take();
      const { worker, tid } = taken;
      const unused = async () => {
        await discard(taken);
        this.pool.refill();
      };
      if (this.closed || req.signal?.aborted) {
        await unused();
        throw cancelled();
      }
      try {
        // v1: the worker thread joins the cgroup, so the processes it spawns are born in it.
        cgroup?.enterThread(tid);
      } catch (err) {
        cgroup?.leaveThread(tid);
        await unused();
        return { exitCode: 125, setupError: (err as Error).message, durationMs: performance.now() - started };
      }
      const prewarmed = claimPrewarmed(taken, helper, req.ports);
      plan.netPrewarmed = prewarmed !== undefined;
      return await this.supervise(worker, tid, plan, req, cgroup, started, helper, prewarmed, copied);
    } finally {
      await cgroup?.remove().catch(() => {});
      for (const dir of [throwaway, copied?.dir]) {
        if (dir === undefined) continue;
        await rm(dir, { recursive: true, force: true }).catch(() => {});
        live.dirs.delete(dir);
      }
    }
  }

  private supervise(worker: Worker, tid: number, plan: SandboxPlan, req: RunRequest, cgroup: RunCgroup | undefined, started: number, helper: Helper | undefined, prewarmed: UserNetwork | undefined, copied: CopiedRoot | undefined): Promise<RunResult> {
    let network = prewarmed;
    let initPidfd: number | undefined;
    let commandPid: number | undefined;
    let done = false;
    let outcome: { result: RunResult } | { error: ExecutorError } | undefined;
    let stubs: StubRecord[] = [];
    let cancelled = false;
    let threadInCgroup = cgroup !== undefined;
    const kill = () => {
      if (initPidfd !== undefined) pidfdSendSignal(initPidfd, SIGKILL);
    };
    const leaveCgroup = () => {
      if (threadInCgroup) cgroup?.leaveThread(tid);
      threadInCgroup = false;
    };
    const onAbort = () => {
      if (outcome) return;
      cancelled = true;
      kill();
      network?.stop(); // a setup waiting for the network wakes up (EOF)
    };
    const send = (m: ToWorker) => worker.postMessage(m);
    // The replacement worker starts once this sandbox is set up, not while it is.
    let refilled = false;
    const refill = () => {
      if (!refilled) this.pool.refill();
      refilled = true;
    };

    const finished = new Promise<void>((resolve) => {
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'network':
            if (cancelled || !helper) {
              // Closing both ends the worker's wait at once (EOF).
              close(m.netns);
              close(m.go);
            } else {
              network = UserNetwork.start({ helper, netns: m.netns, go: m.go, ports: req.ports ?? [] });
            }
            break;
          case 'init':
            initPidfd = m.pidfd;
            live.inits.add(m.pidfd);
            onExit();
            if (cancelled) kill();
            break;
          case 'started':
            commandPid = m.pid;
            refill();
            leaveCgroup();
            cgroup?.started();
            break;
          case 'stdout':
            req.onStdout?.(bytesOf(m.data));
            break;
          case 'stderr':
            req.onStderr?.(bytesOf(m.data));
            break;
          case 'exited': {
            outcome = { result: { ...exitOf(m), durationMs: 0 } };
            break;
          }
          case 'failed':
            refill();
            outcome = m.code === 'TSBUILD_SANDBOX_UNSUPPORTED'
              ? { error: new ExecutorError(m.code, m.message) }
              : { result: { exitCode: m.exitCode, setupError: network?.explain(m.message) ?? m.message, durationMs: 0 } };
            break;
          case 'done':
            done = true;
            stubs = m.stubs;
            break;
        }
      });
      worker.once('error', (err) => {
        kill();
        outcome ??= { error: new ExecutorError('TSBUILD_SANDBOX_SETUP', `sandbox worker failed: ${err.message}`, { cause: err }) };
      });
      worker.once('exit', () => {
        refill();
        resolve();
      });
    });

    const entry = { kill: onAbort, finished };
    this.running.add(entry);
    req.signal?.addEventListener('abort', onAbort, { once: true });
    send({ type: 'run', plan });
    const stopStdin = pipeStdin(req.stdin, send);

    return finished.then(() => {
      stopStdin();
      req.signal?.removeEventListener('abort', onAbort);
      this.running.delete(entry);
      leaveCgroup();
      if (!done) reapAfterCrash(initPidfd, commandPid);
      network?.stop();
      if (initPidfd !== undefined) {
        live.inits.delete(initPidfd);
        close(initPidfd);
      }
      if (!plan.rootfs.throwaway) {
        try {
          if (copied) finishCopiedRoot(copied, plan.rootfs.lowerdirs, plan.rootfs.upperdir, stubs);
          else removeStubs(plan.rootfs.upperdir, stubs);
        } catch (err) {
          throw new ExecutorError('TSBUILD_SANDBOX_SETUP', `${copied ? 'writing the changes into' : 'removing mount points from'} ${plan.rootfs.upperdir}`, { cause: err });
        }
      }
      if (cancelled) throw new ExecutorError('TSBUILD_CANCELLED', 'run cancelled', { cause: req.signal?.reason });
      if (!outcome) throw new ExecutorError('TSBUILD_SANDBOX_SETUP', 'sandbox worker ended without a result');
      if ('error' in outcome) throw outcome.error;
      return { ...outcome.result, durationMs: performance.now() - started, ...(cgroup?.oomKilled() ? { oomKilled: true } : {}) };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const running = [...this.running];
    for (const r of running) r.kill();
    await Promise.allSettled(running.map((r) => r.finished));
    await this.pool.close();
    await helpersReaped();
    if (this.mountpoint?.startsWith(tmpdir())) {
      try {
        rmdirSync(this.mountpoint);
      } catch {
        /* already gone */
      }
    }
  }
}

/**
 * The worker thread died without reaping its children (a bug): they are now children of
 * another thread of tsbuild, and nobody else waits for them. Kill the sandbox and reap.
 */
function reapAfterCrash(initPidfd: number | undefined, commandPid: number | undefined): void {
  const reap = (idtype: number, id: number, options: number) => {
    try {
      waitid(idtype, id, options);
    } catch {
      /* already reaped */
    }
  };
  if (initPidfd !== undefined) {
    pidfdSendSignal(initPidfd, SIGKILL);
    reap(P.PIDFD, initPidfd, 0); // returns once every process of the namespace is dead
  }
  // By pid, so only if it is a zombie already: never wait on a pid someone else got.
  if (commandPid !== undefined) reap(P.PID, commandPid, W.NOHANG);
}

/**
 * An empty directory to mount each sandbox's root on. Every sandbox mounts it in its own
 * mount namespace, so one directory serves all runs of all tsbuild processes and nothing
 * is left behind when tsbuild dies: /run/tsbuild/root, root-owned, or a temporary
 * directory (removed by close()) where /run is not writable.
 */
function sandboxMountpoint(): string {
  const dir = '/run/tsbuild/root';
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (st.isDirectory() && st.uid === 0 && lstatSync('/run/tsbuild').uid === 0) return dir;
  } catch {
    /* fall through */
  }
  return mkdtempSync(join(tmpdir(), 'tsbuild-sandbox-'));
}

function makePlan(req: RunRequest, mountpoint: string, throwaway: string | undefined, helper: Helper | undefined): SandboxPlan {
  const { rootfs, process: proc } = req;
  const hostname = proc.hostname ?? 'tsbuild';
  return {
    mountpoint,
    rootfs: {
      lowerdirs: rootfs.lowerdirs,
      upperdir: rootfs.upperdir ?? join(throwaway!, 'upper'),
      workdir: rootfs.workdir ?? join(throwaway!, 'work'),
      readonly: rootfs.readonly ?? false,
      throwaway: throwaway !== undefined,
    },
    process: { args: proc.args, env: proc.env, cwd: proc.cwd, user: proc.user, hostname },
    mounts: req.mounts ?? [],
    network: req.network,
    ...(helper ? { netHelper: helper.kind } : {}),
    files: {
      hosts: req.etcHosts ?? `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
      resolvConf: req.resolvConf ?? (req.network === 'private' ? sandboxResolvConf(hostResolvConf(), sandboxLayout().dns, { forwardAll: helper?.kind === 'pasta' }) : hostResolvConf()),
      hostname: `${hostname}\n`,
    },
    stdin: req.stdin && req.stdin !== 'ignore' ? 'pipe' : 'ignore',
    initFd: initMemfd(),
    ...(userNamespace() ? { userns: userNamespace()! } : {}),
    kernel: kernelFeatures(),
  };
}
