/**
 * A sandbox worker thread: used for exactly one run, then it ends (its namespaces,
 * root and credentials are the sandbox's by then). It builds the sandbox
 * (sandbox/setup.ts), streams the command's output to the main thread, notices its exit,
 * ends the sandbox by closing the init's control pipe, reaps the init, reports and exits.
 */
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { ExecutorError } from './errors.js';
import * as libc from './libc.js';
import type { FromWorker, SandboxPlan, ToWorker } from './protocol.js';
import { prewarmNetwork, type NetworkHandoff, type Prewarmed } from './sandbox/network.js';
import { prepareSeccomp } from './sandbox/seccomp.js';
import { SetupError } from './sandbox/setup-error.js';
import { streamOutput } from './sandbox/output.js';
import { CannotStart, setupSandbox, type Command, type Sandbox } from './sandbox/setup.js';

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

/** Poll for the command's exit: soon at first (short commands), then every 50 ms. */
const POLL_MS = [1, 1, 1, 2, 2, 5, 5, 10, 10, 20, 20, 50];

/** Options from the pool (pool.ts). */
const options = (workerData ?? {}) as { prewarmNetwork?: boolean };
let prewarmed: Prewarmed | undefined;

function run(plan: SandboxPlan): void {
  const sb: Sandbox = prewarmed ? { prewarmed } : {};
  prewarmed = undefined;
  /** End the sandbox (the init exits, the kernel kills the rest), reap the init, report, end the thread. */
  const finish = (last: FromWorker) => {
    if (sb.netWait !== undefined) libc.close(sb.netWait);
    for (const fd of sb.prewarmed ? [sb.prewarmed.hostNet, sb.prewarmed.wait] : []) libc.close(fd);
    if (sb.init) {
      if (sb.init.control >= 0) libc.close(sb.init.control);
      libc.waitid(libc.P.PIDFD, sb.init.pidfd, 0);
    }
    post(last);
    post({ type: 'done', stubs: sb.targets?.stubs ?? [] });
    process.exit(0);
  };
  let cmd: Command;
  try {
    cmd = setupSandbox(plan, sb, (pid, pidfd) => post({ type: 'init', pid, pidfd }), (h) => post({ type: 'network', ...h }));
  } catch (err) {
    const e = err instanceof ExecutorError ? err : new SetupError('sandbox setup', err);
    finish({ type: 'failed', code: e.code, message: e.message, exitCode: err instanceof CannotStart ? err.exitCode : 125 });
    return;
  }
  post({ type: 'started', pid: cmd.pid });

  let open = 2;
  let exit: { code: number | null; signal: string | null } | undefined;
  const ended = () => {
    if (exit && open === 0) finish({ type: 'exited', ...exit });
  };
  let polls = 0;
  let timer: NodeJS.Timeout | undefined;
  const poll = () => {
    if (exit) return;
    clearTimeout(timer);
    const st = libc.waitid(libc.P.PIDFD, cmd.pidfd, libc.W.NOHANG);
    if (!st) {
      timer = setTimeout(poll, POLL_MS[Math.min(polls++, POLL_MS.length - 1)]);
      return;
    }
    libc.close(cmd.pidfd);
    exit = st.code === libc.CLD.EXITED ? { code: st.status, signal: null } : { code: null, signal: signalName(st.status) };
    // Ends every leftover process, so the output pipes reach EOF.
    libc.close(sb.init!.control);
    sb.init = { ...sb.init!, control: -1 };
    ended();
  };
  streamOutput(cmd, (m) => post(m), () => {
    open--;
    poll();
    ended();
  });
  if (cmd.stdin !== undefined) {
    const stdin = new Socket({ fd: cmd.stdin, readable: false, writable: true });
    stdin.on('error', () => {}); // EPIPE when the command does not read its input
    port.on('message', (m: ToWorker) => {
      if (m.type === 'stdin') stdin.write(m.data);
      else if (m.type === 'stdin-end') stdin.end();
    });
  }
  poll();
}

function signalName(n: number): string {
  return Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0] ?? `SIG${n}`;
}

port.once('message', (m: ToWorker) => {
  if (m.type === 'run') run(m.plan);
});
prepareSeccomp();
let network: NetworkHandoff | undefined;
if (options.prewarmNetwork) {
  try {
    ({ prewarmed, handoff: network } = prewarmNetwork());
  } catch {
    /* the run sets its network up itself */
  }
}
// prewarmFds: what the main thread closes if this worker is discarded unused.
post({ type: 'ready', tid: libc.gettid(), ...(network && prewarmed ? { network, prewarmFds: [prewarmed.hostNet, prewarmed.wait] } : {}) });
