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
 */
import { readSync } from 'node:fs';
import { AF_INET, close, ioctl, O, open, pipe2, POLLIN, pollOne, SOCK, socket } from '../libc.js';
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
