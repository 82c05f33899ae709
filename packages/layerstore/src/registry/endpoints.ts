/**
 * Which hosts serve a registry's content. Pulls try the configured mirrors in order and
 * then the registry itself; pushes go to the registry only (as docker does). A mirror is
 * asked for the same repository path (`/v2/library/busybox/...` for docker.io's busybox).
 *
 * Schemes: `insecure` hosts get plain http; loopback hosts (127.0.0.0/8, ::1, localhost)
 * are insecure by default as in docker, which here means https first and plain http when
 * the server turns out to speak plain HTTP; everything else is https.
 */
import { DEFAULT_DOMAIN } from '../reference.js';
import { canonicalRegistry, parseEndpoint, type RegistryConfig } from './config.js';
import { hostnameOf, isLoopbackHost } from './net-policy.js';

export type Scheme = 'https' | 'http' | 'auto';

export interface Endpoint {
  /** The registry whose content this endpoint serves, as written in references (`docker.io`). */
  registry: string;
  /** Where to connect: `registry-1.docker.io`, `127.0.0.1:5000`. */
  host: string;
  scheme: Scheme;
  mirror: boolean;
}

/** docker.io's API host. */
export const DOCKER_HUB_HOST = 'registry-1.docker.io';

export function pullEndpoints(config: RegistryConfig, registry: string): Endpoint[] {
  const reg = canonicalRegistry(registry);
  const list = Object.entries(config.mirrors ?? {}).find(([r]) => canonicalRegistry(r) === reg)?.[1] ?? [];
  const mirrors = list.map((spec): Endpoint => {
    const { scheme, host } = parseEndpoint(spec, 'registry mirror');
    return { registry: reg, host, scheme: scheme ?? schemeFor(config, host), mirror: true };
  });
  return [...mirrors, pushEndpoint(config, reg)];
}

export function pushEndpoint(config: RegistryConfig, registry: string): Endpoint {
  const reg = canonicalRegistry(registry);
  const host = reg === DEFAULT_DOMAIN ? DOCKER_HUB_HOST : reg;
  return { registry: reg, host, scheme: schemeFor(config, reg === DEFAULT_DOMAIN ? host : reg), mirror: false };
}

export function isInsecure(config: RegistryConfig, host: string): boolean {
  const name = hostnameOf(host);
  const hasPort = (h: string) => /:\d+$/.test(h.replace(/^\[[^\]]*\]/, ''));
  return (config.insecure ?? []).some((h) => h === host || (!hasPort(h) && hostnameOf(h) === name));
}

function schemeFor(config: RegistryConfig, host: string): Scheme {
  if (isInsecure(config, host)) return 'http';
  return isLoopbackHost(host) ? 'auto' : 'https';
}

export function describe(e: Endpoint): string {
  return e.mirror ? `mirror ${e.host}` : e.registry === e.host ? e.host : `${e.registry} (${e.host})`;
}
