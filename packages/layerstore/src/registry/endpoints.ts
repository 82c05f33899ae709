/**
 * Which hosts serve a registry's content. Pulls try the configured mirrors in order and
 * then the registry itself; pushes go to the registry only (as docker does). A mirror is
 * asked for the same repository path (`/v2/library/busybox/...` for docker.io's busybox),
 * under its namespace if it has one (`/v2/dockerhub/library/busybox/...` for
 * `harbor.lan/dockerhub`). A mirror marked digest-only is skipped for pulls by tag (and
 * tag-only for pulls by digest). Each host is listed once: a mirror repeated, or naming
 * the registry itself, is not tried twice. A blocked registry is an error before any request.
 *
 * Schemes: `insecure` hosts get plain http; loopback hosts (127.0.0.0/8, ::1, localhost)
 * are insecure by default as in docker, which here means https first and plain http when
 * the server turns out to speak plain HTTP; everything else is https.
 */
import { DEFAULT_DOMAIN } from '../reference.js';
import type { RegistryConfig } from './config.js';
import { RegistryError } from './errors.js';
import { isInsecure, type Lookup } from './insecure.js';
import { canonicalRegistry, mirrorKey, parseMirror } from './mirror.js';
import { isLoopbackHost } from './net-policy.js';

export type Scheme = 'https' | 'http' | 'auto';

export interface Endpoint {
  /** The registry whose content this endpoint serves, as written in references (`docker.io`). */
  registry: string;
  /** Where to connect: `registry-1.docker.io`, `127.0.0.1:5000`. */
  host: string;
  scheme: Scheme;
  mirror: boolean;
  /** A mirror's repository prefix: `dockerhub` asks for `dockerhub/library/busybox`. */
  namespace?: string;
}

export interface EndpointOptions {
  /** The pull is by digest (digest-only mirrors are used) or by tag (tag-only mirrors are). */
  byDigest?: boolean;
  /** Resolves host names for insecure CIDRs (default: the system resolver). */
  lookup?: Lookup;
}

/** docker.io's API host. */
export const DOCKER_HUB_HOST = 'registry-1.docker.io';

export async function pullEndpoints(config: RegistryConfig, registry: string, opts: EndpointOptions = {}): Promise<Endpoint[]> {
  const primary = await pushEndpoint(config, registry, opts);
  const reg = primary.registry;
  const list = Object.entries(config.mirrors ?? {}).find(([r]) => canonicalRegistry(r) === reg)?.[1] ?? [];
  const seen = new Set([mirrorKey({ host: primary.host })]);
  const mirrors: Endpoint[] = [];
  for (const entry of list) {
    const m = parseMirror(entry, 'registry mirror');
    if (m.pullFrom === (opts.byDigest ? 'tag-only' : 'digest-only')) continue;
    const key = mirrorKey(m);
    if (seen.has(key)) continue;
    seen.add(key);
    const scheme = m.scheme ?? (await schemeFor(config, m.host, opts));
    mirrors.push({ registry: reg, host: m.host, scheme, mirror: true, ...(m.namespace ? { namespace: m.namespace } : {}) });
  }
  return [...mirrors, primary];
}

export async function pushEndpoint(config: RegistryConfig, registry: string, opts: EndpointOptions = {}): Promise<Endpoint> {
  const reg = canonicalRegistry(registry);
  const blockedBy = config.blocked?.[reg];
  if (blockedBy !== undefined) throw new RegistryError('TSBUILD_REGISTRY_BLOCKED', `registry ${reg} is blocked in ${blockedBy}`, { registry: reg });
  const host = reg === DEFAULT_DOMAIN ? DOCKER_HUB_HOST : reg;
  return { registry: reg, host, scheme: await schemeFor(config, reg === DEFAULT_DOMAIN ? host : reg, opts), mirror: false };
}

async function schemeFor(config: RegistryConfig, host: string, opts: EndpointOptions): Promise<Scheme> {
  if (await isInsecure(config.insecure ?? [], host, opts.lookup ? { lookup: opts.lookup } : {})) return 'http';
  return isLoopbackHost(host) ? 'auto' : 'https';
}

export function describe(e: Endpoint): string {
  if (e.mirror) return `mirror ${e.host}${e.namespace ? `/${e.namespace}` : ''}`;
  return e.registry === e.host ? e.host : `${e.registry} (${e.host})`;
}
