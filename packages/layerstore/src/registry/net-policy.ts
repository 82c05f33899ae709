/**
 * Where the client agrees to send requests, following go-containerregistry's rules
 * (go-containerregistry's rules):
 *
 * - A redirect may go anywhere on the same host name (a local registry redirecting from
 *   127.0.0.1:5000 to 127.0.0.1:9000 is fine), but a redirect to another host that is an
 *   IP literal in a loopback, private, link-local, CGNAT, unspecified or multicast range is
 *   refused (the cloud metadata service 169.254.169.254 / fd00:ec2::254). Host names that
 *   merely resolve to such addresses are not checked (as in ggcr). https -> http is refused.
 * - `Authorization` is only ever attached to requests for the registry endpoint's own
 *   origin; after a redirect to another origin it is dropped, and a 401 from there is
 *   not answered with credentials.
 * - A bearer realm must be https (http only when the registry itself is spoken to over
 *   http); an IP-literal realm must be the registry's own IP; a named realm must share
 *   the registry's last two labels (`auth.docker.io` for `registry-1.docker.io`); never
 *   link-local.
 */
import { BlockList, isIP } from 'node:net';
import { RegistryError } from './errors.js';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) blocked.addSubnet(net, prefix, 'ipv6');

const linkLocal = new BlockList();
linkLocal.addSubnet('169.254.0.0', 16, 'ipv4');
linkLocal.addSubnet('fe80::', 10, 'ipv6');
linkLocal.addAddress('0.0.0.0', 'ipv4');
linkLocal.addAddress('::', 'ipv6');

/** The host name of a URL or `host[:port]` without brackets or port. */
export function hostnameOf(hostOrUrl: URL | string): string {
  const h = typeof hostOrUrl === 'string' ? new URL(`http://${hostOrUrl}`).hostname : hostOrUrl.hostname;
  return h.startsWith('[') ? h.slice(1, -1) : h;
}

function check(list: BlockList, host: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped) return list.check(mapped[1]!, 'ipv4');
  const v = isIP(host);
  return v !== 0 && list.check(host, v === 4 ? 'ipv4' : 'ipv6');
}

/** An IP literal in a range a remote registry must not send us to. */
export function isInternalAddress(host: string): boolean {
  return check(blocked, host);
}

export function isLoopbackHost(host: string): boolean {
  const h = hostnameOf(host);
  if (h === 'localhost') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(h);
  const ip = mapped ? mapped[1]! : h;
  return isIP(ip) === 4 ? ip.startsWith('127.') : ip === '::1';
}

export function sameOrigin(a: URL, b: URL): boolean {
  return a.protocol === b.protocol && a.host === b.host;
}

/** Throws unless a redirect from `origin` (the first URL of the chain) to `to` may be followed. */
export function checkRedirect(origin: URL, from: URL, to: URL, registry: string): void {
  const refuse = (why: string) => new RegistryError('TSBUILD_REGISTRY_UNSAFE', `refusing redirect from ${from.host} to ${to.origin}: ${why}`, { registry });
  if (to.protocol !== 'https:' && to.protocol !== 'http:') throw refuse(`scheme ${to.protocol} not allowed`);
  if (from.protocol === 'https:' && to.protocol === 'http:') throw refuse('downgrade from https to http');
  if (to.username || to.password) throw refuse('credentials in the URL');
  const dest = hostnameOf(to);
  if (dest !== hostnameOf(origin) && isInternalAddress(dest)) throw refuse('another host at a private, loopback or link-local address (SSRF)');
}

/** Throws unless `realm` may receive the credentials of the registry at `endpoint` (host[:port]). */
export function validateRealm(realm: string, endpoint: { host: string; scheme: 'http' | 'https' }, registry: string): URL {
  const refuse = (why: string) => new RegistryError('TSBUILD_REGISTRY_UNSAFE', `refusing token realm ${JSON.stringify(realm.slice(0, 200))} of ${endpoint.host}: ${why}`, { registry });
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    throw refuse('not a URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && endpoint.scheme === 'http')) throw refuse('must be https (http only for a registry spoken to over http)');
  if (url.username || url.password) throw refuse('credentials in the URL');
  const host = hostnameOf(url);
  const registryHost = hostnameOf(endpoint.host);
  if (check(linkLocal, host)) throw refuse('link-local or unspecified address');
  if (isIP(host) !== 0 || isIP(registryHost) !== 0 || host === 'localhost' || registryHost === 'localhost') {
    if (host !== registryHost) throw refuse(`an address realm must be the registry's own host ${registryHost}`);
  } else if (effectiveDomain(host) !== effectiveDomain(registryHost)) {
    throw refuse(`host ${host} is not in the registry's domain ${effectiveDomain(registryHost)}`);
  }
  return url;
}

function effectiveDomain(host: string): string {
  const parts = host.toLowerCase().replace(/\.$/, '').split('.');
  return parts.length < 2 ? parts.join('.') : parts.slice(-2).join('.');
}
