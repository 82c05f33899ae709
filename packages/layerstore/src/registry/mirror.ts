/**
 * Mirror entries as the config sources write them, and their one parsed form.
 *
 *   "mirror.internal:5000"                          host[:port] (scheme from the insecure list)
 *   "http://mirror.internal:5000", "https://m.lan"  with a scheme (flags, tsbuild's file, daemon.json)
 *   { location: "harbor.lan/dockerhub" }            registries.conf: host[:port][/namespace]; a pull of
 *                                                   docker.io/library/busybox asks for dockerhub/library/busybox
 *   { location: "m.lan", pullFrom: "digest-only" }  used only for pulls by digest (or "tag-only": by tag)
 */
import { LayerstoreError } from '../errors.js';
import { DEFAULT_DOMAIN } from '../reference.js';

export interface MirrorSpec {
  /** `host[:port]` or `host[:port]/namespace`, no scheme (as registries.conf writes it). */
  location: string;
  /** Use the mirror only for pulls by digest, or only for pulls by tag (default: both). */
  pullFrom?: 'digest-only' | 'tag-only';
}

export type Mirror = string | MirrorSpec;

export interface ParsedMirror {
  host: string;
  scheme?: 'http' | 'https';
  /** Repository path prefix on the mirror (`dockerhub` in `harbor.lan/dockerhub`). */
  namespace?: string;
  pullFrom?: 'digest-only' | 'tag-only';
}

export const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const NAMESPACE_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** `host[:port]` or `http(s)://host[:port][/]` -> scheme and host. */
export function parseEndpoint(spec: string, where: string): { scheme?: 'http' | 'https'; host: string } {
  const bad = () => new LayerstoreError('TSBUILD_CONFIG_INVALID', `${where}: invalid mirror ${JSON.stringify(spec)}: want host[:port] or http(s)://host[:port]`);
  const m = /^(?:(https?):\/\/)?([^/]+)\/?$/.exec(spec.trim());
  if (!m || !HOST_RE.test(m[2]!)) throw bad();
  return m[1] ? { scheme: m[1] as 'http' | 'https', host: m[2]! } : { host: m[2]! };
}

/** A registries.conf location: `host[:port][/namespace]`, no scheme. */
export function parseLocation(location: string, where: string): { host: string; namespace?: string } {
  const trimmed = location.replace(/\/+$/, '');
  const slash = trimmed.indexOf('/');
  const host = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const namespace = slash === -1 ? undefined : trimmed.slice(slash + 1);
  if (!HOST_RE.test(host) || (namespace !== undefined && !NAMESPACE_RE.test(namespace))) {
    throw new LayerstoreError('TSBUILD_CONFIG_INVALID', `${where}: invalid location ${JSON.stringify(location)}: want host[:port][/namespace]`);
  }
  return namespace === undefined ? { host } : { host, namespace };
}

export function parseMirror(mirror: Mirror, where: string): ParsedMirror {
  if (typeof mirror === 'string') return parseEndpoint(mirror, where);
  const { host, namespace } = parseLocation(mirror.location, where);
  return { host, ...(namespace !== undefined ? { namespace } : {}), ...(mirror.pullFrom ? { pullFrom: mirror.pullFrom } : {}) };
}

/** Two entries with the same key are the same mirror (the first one's settings win). */
export function mirrorKey(m: ParsedMirror): string {
  return `${m.host.toLowerCase()}/${m.namespace ?? ''}`;
}

/** `index.docker.io` and `registry-1.docker.io` are docker.io. */
export function canonicalRegistry(host: string): string {
  const h = host.toLowerCase();
  return h === 'index.docker.io' || h === 'registry-1.docker.io' ? DEFAULT_DOMAIN : host;
}
