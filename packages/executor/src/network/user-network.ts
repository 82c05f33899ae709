/**
 * One `private` network's helper, on tsbuild's main thread, from the worker's handoff
 * (sandbox/network.ts) to its end:
 *
 *   start(): spawn the helper on the sandbox's namespace   -> it writes to `go` when ready
 *            with ports (slirp4netns): wait for its own ready pipe, publish each port
 *            through the API socket, then write "1" (or "!reason") to `go`
 *   stop():  SIGKILL, close every fd, remove the API socket's directory; reap in the background
 *
 * start() never throws: whatever goes wrong reaches the worker through `go` (`!reason`,
 * or EOF), which fails the setup with exit code 125 before the command starts.
 *
 * The helper never outlives the sandbox: stop() runs when the worker thread ends (the
 * command exited, the setup failed, the run was cancelled); if tsbuild exits it is
 * killed from an exit hook; if tsbuild is killed, slirp4netns sees its exit pipe close
 * and pasta gets SIGKILL as its parent-death signal.
 */
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import * as libc from '../libc.js';
import type { PortSpec } from '../types.js';
import { helperArgv, type Helper } from './helpers.js';
import { sandboxLayout } from './layout.js';
import { portInUse } from './ports.js';
import { addHostForward } from './slirp-api.js';
import { helperLog, spawnHelper, type SpawnedHelper } from './spawn-helper.js';

const SIGKILL = 9;
const W_NOWAIT = 0x01000000;

const live = new Set<UserNetwork>();
let exitHook = false;

export interface UserNetworkOptions {
  helper: Helper;
  /** The sandbox's network namespace (an fd; closed by start). */
  netns: number;
  /** Write end of the worker's readiness pipe (closed by start, or once ports are published). */
  go: number;
  ports?: readonly PortSpec[];
}

export class UserNetwork {
  private proc: SpawnedHelper | undefined;
  private go: number | undefined;
  private exitWrite: number | undefined;
  private apiDir: string | undefined;
  private ready: Socket | undefined;
  private readonly abort = new AbortController();
  private stopped = false;

  private constructor(readonly helper: Helper) {}

  static start(opts: UserNetworkOptions): UserNetwork {
    const net = new UserNetwork(opts.helper);
    net.go = opts.go;
    live.add(net);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const n of live) n.kill();
      });
    }
    try {
      net.spawn(opts.netns, opts.ports ?? []);
    } catch (err) {
      net.fail(`cannot start ${opts.helper.path}: ${(err as Error).message}`);
    } finally {
      libc.close(opts.netns);
    }
    return net;
  }

  private spawn(netns: number, ports: readonly PortSpec[]): void {
    const { helper } = this;
    const viaApi = helper.kind === 'slirp4netns' && ports.length > 0;
    const inherited: number[] = [netns];
    const toClose: number[] = [];
    try {
      let ready = this.go!;
      if (viaApi) {
        const [r, w] = libc.pipe2();
        this.ready = new Socket({ fd: r, readable: true, writable: false });
        ready = w;
        toClose.push(w);
        this.apiDir = mkdtempSync(join(tmpdir(), 'tsbuild-net-'));
      }
      inherited.push(ready);
      let exit: number | undefined;
      if (helper.kind === 'slirp4netns') {
        const [r, w] = libc.pipe2();
        this.exitWrite = w;
        exit = r;
        toClose.push(r);
        inherited.push(r);
      }
      const apiSocket = this.apiDir === undefined ? undefined : join(this.apiDir, 'api.sock');
      const argv = helperArgv(helper, { netns, ready, ...(exit !== undefined ? { exit } : {}) }, sandboxLayout(), { ...(apiSocket ? { apiSocket } : {}), ports });
      this.proc = spawnHelper(argv, inherited);
      if (!viaApi) this.closeGo(); // the helper holds the only write end now: its death is EOF
      else void this.publish(apiSocket!, ports);
    } finally {
      for (const fd of toClose) libc.close(fd);
    }
  }

  /** slirp4netns is ready: publish the ports, then let the worker go on. */
  private async publish(socket: string, ports: readonly PortSpec[]): Promise<void> {
    const ready = await new Promise<boolean>((resolve) => {
      this.ready!.once('data', () => resolve(true));
      this.ready!.once('end', () => resolve(false));
      this.ready!.once('error', () => resolve(false));
      this.ready!.once('close', () => resolve(false)); // stop() destroyed it
    });
    this.ready?.destroy();
    this.ready = undefined;
    if (this.stopped) return;
    if (!ready) return this.fail(`${this.helper.kind} exited before the network was up${this.logSuffix()}`);
    for (const p of ports) {
      try {
        await addHostForward(socket, p, this.abort.signal);
      } catch (err) {
        if (this.stopped) return;
        const why = (await portInUse(p)) ? `host port ${p.hostPort}/${p.protocol ?? 'tcp'} is already in use` : (err as Error).message;
        if (this.stopped) return;
        return this.fail(`cannot publish ${p.hostIp ?? '0.0.0.0'}:${p.hostPort} -> ${p.containerPort}/${p.protocol ?? 'tcp'}: ${why}`);
      }
    }
    if (this.stopped) return;
    try {
      if (this.go !== undefined) writeSync(this.go, '1');
    } catch {
      /* the worker is gone (EPIPE) */
    }
    this.closeGo();
  }

  /** A setup failure's message, with the helper's own last words when it has died. */
  explain(message: string): string {
    if (!this.proc || !this.exited()) return message;
    const log = this.logSuffix();
    return log === '' || message.includes(log) ? message : `${message}${log}`;
  }

  /** Whether the helper has exited (it stays a zombie for stop() to reap). */
  private exited(): boolean {
    try {
      return libc.waitid(libc.P.PIDFD, this.proc!.pidfd, libc.W.NOHANG | W_NOWAIT) !== undefined;
    } catch {
      return true;
    }
  }

  private logSuffix(): string {
    const log = this.proc ? helperLog(this.proc.log) : '';
    return log === '' ? '' : ` (${this.helper.kind}: ${log})`;
  }

  private fail(reason: string): void {
    if (this.go !== undefined) {
      try {
        writeSync(this.go, `!${reason.slice(0, 3000)}`);
      } catch {
        /* the worker is gone */
      }
    }
    this.closeGo();
    this.kill();
  }

  private closeGo(): void {
    if (this.go !== undefined) libc.close(this.go);
    this.go = undefined;
  }

  /** SIGKILL the helper (idempotent; safe from an exit hook). */
  kill(): void {
    if (this.proc) libc.pidfdSendSignal(this.proc.pidfd, SIGKILL);
  }

  /** Kill the helper and release everything; it is reaped in the background (helpersReaped()). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    live.delete(this);
    this.abort.abort();
    this.ready?.destroy();
    this.closeGo();
    if (this.exitWrite !== undefined) libc.close(this.exitWrite);
    this.exitWrite = undefined;
    if (this.proc) {
      const proc = this.proc;
      this.proc = undefined;
      libc.pidfdSendSignal(proc.pidfd, SIGKILL);
      const p: Promise<void> = reap(proc).finally(() => reaping.delete(p));
      reaping.add(p);
    }
    if (this.apiDir !== undefined) rmSync(this.apiDir, { recursive: true, force: true });
  }
}

const reaping = new Set<Promise<void>>();

/**
 * A killed helper's exit takes its tap device down, which waits for RCU grace periods:
 * 20 ms and more (measured), so it is reaped off the run's path, polling with backoff.
 */
async function reap(proc: SpawnedHelper): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      if (libc.waitid(libc.P.PIDFD, proc.pidfd, libc.W.NOHANG) !== undefined) break;
    } catch {
      break; // reaped already
    }
    await sleep(Math.min(2 ** i, 50));
  }
  libc.close(proc.pidfd);
  libc.close(proc.log);
}

/** Resolves once every helper stopped so far has been reaped (the executor's close() waits for it). */
export async function helpersReaped(): Promise<void> {
  await Promise.all([...reaping]);
}
