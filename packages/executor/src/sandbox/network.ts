/**
 * The sandbox's side of its network (the worker thread, already in the new network
 * namespace): `lo` up, and for a `private` network the handoff to tsbuild's main thread,
 * which attaches a user-mode networking helper (network/user-network.ts).
 *
 *   worker: unshare(CLONE_NEWNET) ... openPrivateNetwork() -> post { netns, go } ──┐
 *   main:   spawn the helper on /proc/self/fd/<netns>; it (or main, after publishing │
 *           ports) writes to `go` once the namespace is configured  <───────────────┘
 *   worker: ... the rest of the setup ... awaitNetwork(wait): blocks until then
 *
 * The helper starts while the rootfs and mounts are being set up, so its start-up costs
 * a RUN step only what is left of it when the command is about to start. Ownership of
 * the two handed-off fds passes to the main thread with the message; the worker keeps
 * and closes `wait`.
 *
 * Prewarmed (the executor's `prewarmNetwork`, which a build uses): an idle pooled worker
 * does the unshare and the handoff as soon as it starts (prewarmNetwork()), so its helper
 * is up long before a run takes the worker, as BuildKit keeps a pool of network
 * namespaces. A run that wants another network (host, none, or ports to publish) leaves
 * it: back to the host's namespace, or a fresh one.
 */
import { readSync } from 'node:fs';
import { AF_INET, close, CLONE, ioctl, O, open, pipe2, POLLIN, pollOne, setns, SOCK, socket, unshare } from '../libc.js';
import type { SandboxPlan } from '../protocol.js';
import { SetupError } from './setup-error.js';

const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 0x1;
const IFREQ_SIZE = 40;
const FLAGS_OFFSET = 16;

/** Bring the loopback interface of a fresh network namespace up (SIOCGIFFLAGS / SIOCSIFFLAGS). */
export function loopbackUp(): void {
  const s = socket(AF_INET, SOCK.DGRAM);
  try {
    const ifr = Buffer.alloc(IFREQ_SIZE);
    ifr.write('lo', 0, 'latin1');
    ioctl(s, SIOCGIFFLAGS, ifr);
    ifr.writeUInt16LE(ifr.readUInt16LE(FLAGS_OFFSET) | IFF_UP, FLAGS_OFFSET);
    ioctl(s, SIOCSIFFLAGS, ifr);
  } finally {
    close(s);
  }
}

/** What the main thread gets: the namespace and the write end of the readiness pipe. */
export interface NetworkHandoff {
  netns: number;
  go: number;
}

/** Call on the worker thread right after unshare(CLONE_NEWNET). */
export function openPrivateNetwork(): { handoff: NetworkHandoff; wait: number } {
  const netns = open('/proc/thread-self/ns/net', O.RDONLY);
  let fds: [number, number];
  try {
    fds = pipe2();
  } catch (err) {
    close(netns);
    throw err;
  }
  return { handoff: { netns, go: fds[1] }, wait: fds[0] };
}

/** How long a helper may take to configure the namespace (an emulated guest is slow). */
export const NETWORK_READY_TIMEOUT_MS = 60_000;

/**
 * Block until the network is up: the first byte on `wait` is anything but `!` (slirp4netns
 * writes "1", pasta its pid, the main thread "1" after publishing ports). `!reason` from
 * the main thread, EOF (the helper died, or was never started) or the timeout fail the
 * setup. Closes `wait`.
 */
export function awaitNetwork(wait: number, helper: string, timeoutMs = NETWORK_READY_TIMEOUT_MS): void {
  try {
    if (!pollOne(wait, POLLIN, timeoutMs)) throw new SetupError(`network: ${helper} did not configure the network within ${timeoutMs / 1000} s`);
    const buf = Buffer.alloc(4096);
    const n = readSync(wait, buf);
    if (n === 0) throw new SetupError(`network: ${helper} exited before the network was up`);
    if (buf[0] === 0x21) throw new SetupError(`network: ${buf.toString('utf8', 1, n)}`);
  } finally {
    close(wait);
  }
}

/** A private network made while the worker was idle, for the run that takes it. */
export interface Prewarmed {
  /** The host's network namespace, to return to for `network: 'host'`. */
  hostNet: number;
  /** The readiness pipe's read end (see openPrivateNetwork). */
  wait: number;
}

/** On an idle worker thread: a private network namespace of its own, handed off at once. */
export function prewarmNetwork(): { prewarmed: Prewarmed; handoff: NetworkHandoff } {
  const hostNet = open('/proc/thread-self/ns/net', O.RDONLY);
  try {
    unshare(CLONE.NEWNET);
    const { handoff, wait } = openPrivateNetwork();
    return { prewarmed: { hostNet, wait }, handoff };
  } catch (err) {
    close(hostNet);
    throw err;
  }
}

/**
 * Before the sandbox's unshare: the CLONE_NEWNET flag it still needs (0 when the thread
 * is already where the plan wants it). A prewarmed namespace is used for a `private` run
 * the main thread said it fits (`plan.netPrewarmed`); otherwise it is left.
 */
export function networkUnshareFlag(plan: SandboxPlan, sb: { prewarmed?: Prewarmed; netWait?: number }): number {
  const pre = sb.prewarmed;
  sb.prewarmed = undefined;
  if (!pre) return plan.network === 'host' ? 0 : CLONE.NEWNET;
  try {
    if (plan.network === 'private' && plan.netPrewarmed) {
      sb.netWait = pre.wait;
      return 0;
    }
    close(pre.wait);
    if (plan.network === 'host') {
      setns(pre.hostNet, CLONE.NEWNET);
      return 0;
    }
    return CLONE.NEWNET;
  } finally {
    close(pre.hostNet);
  }
}

/** After the unshare, for a `private` network not prewarmed: open it and hand it off. */
export function handOffNetwork(plan: SandboxPlan, sb: { netWait?: number }, onNetwork: (h: NetworkHandoff) => void): void {
  if (plan.network !== 'private' || sb.netWait !== undefined) return;
  const net = openPrivateNetwork();
  sb.netWait = net.wait;
  onNetwork(net.handoff);
}
