/**
 * The user-mode networking helpers a `private` network can use, and how to start each.
 *
 * Both are run as root from tsbuild's main thread, in the host's namespaces, attached to
 * the sandbox's new network namespace (given as an inherited fd, `/proc/self/fd/N`).
 * They give the sandbox the same layout (layout.ts; usually 10.0.2.100/24, gateway
 * 10.0.2.2, DNS forwarder 10.0.2.3), IPv4 only; the gateway never leads to the host's
 * loopback.
 *
 * - slirp4netns (preferred): ready in ~7 ms against pasta's ~30 ms (pasta pre-opens
 *   socket pools), so it costs a RUN step less; it exits when its `--exit-fd` pipe
 *   closes, which the kernel does when tsbuild dies; `--disable-host-loopback` keeps
 *   10.0.2.2 from reaching 127.0.0.1; `--enable-sandbox --enable-seccomp` confine it
 *   (empty root, no capabilities but CAP_NET_BIND_SERVICE, syscall filter), as podman
 *   runs it. Ports are published through its API socket once it is ready.
 * - pasta (Debian's passt package): `--no-map-gw` and `-T none -U none` keep the
 *   host's loopback out (by default it maps the gateway to it and forwards the
 *   namespace's own ports to the host's); it has no exit fd, so it runs in the
 *   foreground under `setpriv --pdeathsig KILL` (util-linux) and dies with tsbuild's
 *   main thread. Its pid file, a pipe, says when it is ready. Ports are `-t`/`-u`.
 *
 * Which one: the first of slirp4netns, pasta found on PATH; `TSBUILD_NETWORK_HELPER`
 * (or the executor's `networkHelper` option) names one, a test switch to force a path.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants as fsc, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ExecutorError } from '../errors.js';
import type { PortSpec } from '../types.js';
import type { Layout } from './layout.js';

export type HelperKind = 'slirp4netns' | 'pasta';
export const HELPER_KINDS: readonly HelperKind[] = ['slirp4netns', 'pasta'];


export interface Helper {
  kind: HelperKind;
  /** Absolute path of the program. */
  path: string;
  /** pasta only: setpriv, when it has --pdeathsig. */
  setpriv?: string;
}

/** PATH's absolute directories. */
function searchDirs(): string[] {
  return (process.env.PATH ?? '').split(':').filter((d) => d.startsWith('/'));
}

/** An executable file named `name` in `dirs`, or undefined. */
export function findProgram(name: string, dirs: readonly string[] = searchDirs()): string | undefined {
  for (const dir of dirs) {
    const p = join(dir, name);
    try {
      if (!statSync(p).isFile()) continue;
      accessSync(p, fsc.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

const found = new Map<string, Helper | null>();

/**
 * The helper to use, found once per process. `want` (or TSBUILD_NETWORK_HELPER) picks
 * one kind; otherwise the first installed of HELPER_KINDS. Throws, naming the packages
 * to install, when there is none, or naming the tun driver when /dev/net/tun (which both
 * open) is missing: devtmpfs has the node only once the module is loaded, which a
 * systemd host does at boot and a bare VM or initramfs may not. `opts` (tests) replace
 * the search path and the device's path, uncached.
 */
export function chooseHelper(want: string | undefined = process.env.TSBUILD_NETWORK_HELPER || undefined, opts: { dirs?: readonly string[]; tun?: string } = {}): Helper {
  const { dirs } = opts;
  const tun = opts.tun ?? '/dev/net/tun';
  if (!existsSync(tun)) {
    throw new ExecutorError('TSBUILD_SANDBOX_UNSUPPORTED', `the default network needs ${tun} (Linux's tun driver, CONFIG_TUN), which is missing: load the driver with modprobe tun; --network host or --network none work without it`);
  }
  const key = want ?? '';
  const uncached = dirs !== undefined || opts.tun !== undefined;
  let h = uncached ? undefined : found.get(key);
  if (h === undefined) {
    h = null;
    if (want !== undefined && !HELPER_KINDS.includes(want as HelperKind)) {
      throw new ExecutorError('TSBUILD_SANDBOX_UNSUPPORTED', `unknown network helper ${JSON.stringify(want)}: want ${HELPER_KINDS.join(' or ')}`);
    }
    for (const kind of want !== undefined ? [want as HelperKind] : HELPER_KINDS) {
      const path = findProgram(kind, dirs);
      if (path === undefined) continue;
      h = { kind, path };
      if (kind === 'pasta') {
        const setpriv = findProgram('setpriv', dirs);
        if (setpriv !== undefined && hasPdeathsig(setpriv)) h.setpriv = setpriv;
      }
      break;
    }
    if (!uncached) found.set(key, h);
  }
  if (h === null) {
    const which = want !== undefined ? `${want} (TSBUILD_NETWORK_HELPER)` : 'slirp4netns or pasta';
    throw new ExecutorError(
      'TSBUILD_SANDBOX_UNSUPPORTED',
      `the default network needs user-mode networking: ${which} is not installed (Debian and Ubuntu: apt-get install slirp4netns, or passt for pasta; Fedora and RHEL: dnf install slirp4netns); --network host or --network none work without it`,
    );
  }
  return h;
}

/** util-linux 2.33+ (2018): `setpriv --pdeathsig`. */
function hasPdeathsig(setpriv: string): boolean {
  try {
    return execFileSync(setpriv, ['--help'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).includes('--pdeathsig');
  } catch {
    return false;
  }
}

/** The fds a helper inherits (same numbers as in tsbuild, where they are close-on-exec). */
export interface HelperFds {
  /** The sandbox's network namespace. */
  netns: number;
  /** Written once the namespace is configured (slirp4netns: "1"; pasta: its pid). */
  ready: number;
  /** slirp4netns: the read end of a pipe only tsbuild writes; EOF ends slirp4netns. */
  exit?: number;
}

/** argv of the helper (argv[0] is the program to execute). */
export function helperArgv(h: Helper, fds: HelperFds, layout: Layout, opts: { apiSocket?: string; ports?: readonly PortSpec[] } = {}): string[] {
  const netns = `/proc/self/fd/${fds.netns}`;
  if (h.kind === 'slirp4netns') {
    return [
      h.path, '--configure', `--mtu=${layout.mtu}`, `--cidr=${layout.cidr}`, '--disable-host-loopback', '--enable-sandbox', '--enable-seccomp',
      `--ready-fd=${fds.ready}`, `--exit-fd=${fds.exit}`,
      ...(opts.apiSocket !== undefined ? [`--api-socket=${opts.apiSocket}`] : []),
      '--netns-type=path', netns, 'tap0',
    ];
  }
  const ports = (proto: 'tcp' | 'udp') => {
    const list = (opts.ports ?? []).filter((p) => (p.protocol ?? 'tcp') === proto).map((p) => `${p.hostIp !== undefined ? `${p.hostIp}/` : ''}${p.hostPort}:${p.containerPort}`);
    return list.length > 0 ? list.join(',') : 'none';
  };
  const pasta = [
    h.path, '--foreground', '--quiet', '--ipv4-only', '--config-net', '--no-map-gw',
    '--address', layout.address, '--netmask', String(layout.prefix), '--gateway', layout.gateway, '--dns-forward', layout.dns, '--mtu', String(layout.mtu),
    '--tcp-ports', ports('tcp'), '--udp-ports', ports('udp'), '--tcp-ns', 'none', '--udp-ns', 'none',
    '--runas', '0:0', '--netns', netns, '--pid', `/proc/self/fd/${fds.ready}`,
  ];
  return h.setpriv !== undefined ? [h.setpriv, '--pdeathsig', 'KILL', '--', ...pasta] : pasta;
}
