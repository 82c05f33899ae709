/**
 * The addresses of a private network: a /24 with the sandbox at .100, the gateway at .2
 * and the DNS forwarder at .3, as slirp4netns lays out its `--cidr` (pasta is given the
 * same). 10.0.2.0/24, slirp's and podman's default, unless the host already uses it (a
 * CI runner inside qemu's or VirtualBox's NAT is 10.0.2.15): then the sandbox could not
 * reach the host's own network, so the first /24 of the candidates that no interface or
 * route of the host overlaps is taken. Chosen once per process.
 */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

export interface Layout {
  /** e.g. 10.0.2.0/24 */
  cidr: string;
  address: string;
  prefix: number;
  gateway: string;
  dns: string;
  mtu: number;
}

const CANDIDATES = ['10.0.2', '10.0.3', '10.0.4', '10.0.5', '10.0.6', '10.0.7', '10.0.8', '10.0.9', '172.31.250', '192.168.250'];

/** A host network as [first address, last address] (32-bit numbers). */
export type Range = [number, number];

function toNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function range(base: number, prefix: number): Range {
  const size = 2 ** (32 - prefix);
  const first = Math.floor(base / size) * size;
  return [first, first + size - 1];
}

export function layoutFor(net: string): Layout {
  return { cidr: `${net}.0/24`, address: `${net}.100`, prefix: 24, gateway: `${net}.2`, dns: `${net}.3`, mtu: 65520 };
}

/** The first candidate /24 that overlaps none of `used`. */
export function pickLayout(used: readonly Range[]): Layout {
  const free = CANDIDATES.find((c) => {
    const [a, b] = range(toNumber(`${c}.0`), 24);
    return !used.some(([x, y]) => a <= y && x <= b);
  });
  return layoutFor(free ?? CANDIDATES[0]!);
}

/** The host's IPv4 networks: its interfaces' and its routes' (the default route left out). */
function hostRanges(): Range[] {
  const out: Range[] = [];
  for (const a of Object.values(networkInterfaces()).flat()) {
    if (a && a.family === 'IPv4' && !a.internal && a.cidr) out.push(range(toNumber(a.address), Number(a.cidr.split('/')[1])));
  }
  try {
    // /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask ..., addresses little-endian hex.
    for (const line of readFileSync('/proc/net/route', 'utf8').trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const le = (hex: string) => Buffer.from(hex, 'hex').readUInt32LE(0);
      const dest = le(f[1]!);
      const mask = le(f[7]!);
      if (mask === 0) continue;
      const prefix = 32 - Math.log2(2 ** 32 - mask);
      out.push(range(dest, Number.isInteger(prefix) ? prefix : 32));
    }
  } catch {
    /* no procfs route table: interfaces only */
  }
  return out;
}

let chosen: Layout | undefined;

export function sandboxLayout(): Layout {
  return (chosen ??= pickLayout(hostRanges()));
}
