/**
 * Which hosts are spoken to over plain HTTP. An `insecure` entry is
 *
 *   `host:port`    that host on that port
 *   `host`         that host on any port
 *   `10.0.0.0/8`   a CIDR (dockerd's insecure-registries, `--insecure-registry`): any registry
 *                  whose address is in it; a host name is resolved (as dockerd does) and a
 *                  name that does not resolve matches no CIDR
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { LayerstoreError } from '../errors.js';
import { hostnameOf } from './net-policy.js';
import { HOST_RE } from './mirror.js';

export type Lookup = (hostname: string) => Promise<string[]>;

const systemLookup: Lookup = async (hostname) => (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

export function parseCidr(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const m = /^([0-9A-Fa-f:.]+)\/(\d{1,3})$/.exec(entry);
  if (!m) return undefined;
  const version = isIP(m[1]!);
  const prefix = Number(m[2]);
  if (version === 0 || prefix > (version === 4 ? 32 : 128)) return undefined;
  return { address: m[1]!, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Check a list of insecure entries (host, host:port or CIDR). */
export function checkInsecureEntries(entries: unknown, where: string, what: string): string[] {
  if (!Array.isArray(entries) || entries.some((h) => typeof h !== 'string' || !(HOST_RE.test(h) || parseCidr(h)))) {
    throw new LayerstoreError('TSBUILD_CONFIG_INVALID', `${where}: ${what} must be a list of host, host:port or CIDR (10.0.0.0/8)`);
  }
  return entries as string[];
}

export async function isInsecure(insecure: readonly string[], host: string, opts: { lookup?: Lookup } = {}): Promise<boolean> {
  const name = hostnameOf(host);
  const hasPort = (h: string) => /:\d+$/.test(h.replace(/^\[[^\]]*\]/, ''));
  if (insecure.some((h) => h === host || (!hasPort(h) && !parseCidr(h) && hostnameOf(h) === name))) return true;
  const cidrs = insecure.map(parseCidr).filter((c) => c !== undefined);
  if (cidrs.length === 0) return false;
  const list = new BlockList();
  for (const c of cidrs) list.addSubnet(c.address, c.prefix, c.family);
  const addresses = isIP(name) ? [name] : await (opts.lookup ?? systemLookup)(name).catch(() => []);
  return addresses.some((a) => {
    const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a)?.[1];
    return v4 ? list.check(v4, 'ipv4') : list.check(a, isIP(a) === 6 ? 'ipv6' : 'ipv4');
  });
}
