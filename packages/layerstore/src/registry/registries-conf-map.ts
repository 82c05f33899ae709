/**
 * registries.conf in tsbuild's terms. tsbuild configures registries per host (mirrors
 * tried in order, then the registry; insecure = plain HTTP; blocked) and, like docker,
 * always reads a short name as docker.io. So:
 *
 *   [[registry]] whose prefix is its location, a host     mirrors, insecure, blocked applied
 *   [[registry.mirror]] host[:port][/namespace]             a mirror (namespace kept); `insecure`
 *                                                           makes its host plain HTTP
 *   mirror-by-digest-only, pull-from-mirror                 applied per mirror
 *   a wildcard prefix, a prefix with a path, a prefix that
 *   differs from the location (remapping)                   not applied: a warning
 *   unqualified-search-registries naming others than docker.io   a warning
 *   credential-helpers other than containers-auth.json      a warning (credentials come from
 *                                                           ~/.docker/config.json)
 *   [aliases] to anything but docker's reading of the name  kept, to warn when such a name is
 *                                                           pulled (short-names.ts)
 *   short-name-mode, additional-layer-store-auth-helper     no effect on tsbuild
 */
import { LayerstoreError } from '../errors.js';
import { DEFAULT_DOMAIN, parseReference } from '../reference.js';
import type { ShortNameAlias } from './config.js';
import type { ConfigSource } from './config-merge.js';
import { canonicalRegistry, parseLocation, type Mirror } from './mirror.js';
import type { RegistriesConf } from './registries-conf.js';
import type { ContainersRegistry } from './registries-conf-parse.js';

export function registriesConfSource({ conf, files }: RegistriesConf): ConfigSource {
  const mirrors: Record<string, Mirror[]> = {};
  const insecure: string[] = [];
  const blocked: Record<string, string> = {};
  const warnings: string[] = [];
  for (const r of conf.registries) {
    const unsupported = whyNotApplied(r);
    if (unsupported) {
      const settings = describeSettings(r);
      if (settings) warnings.push(`${r.file}: [[registry]] prefix "${r.prefix}": ${unsupported}, so its settings (${settings}) are not applied`);
      continue;
    }
    const where = `${r.file}: [[registry]] "${r.location}"`;
    const registry = canonicalRegistry(parseLocation(r.location, where).host);
    if (r.blocked) blocked[registry] = r.file;
    if (r.insecure) insecure.push(registry);
    for (const m of r.mirrors) {
      const { host } = parseLocation(m.location, `${where} mirror`);
      const pullFrom = r.mirrorByDigestOnly ? 'digest-only' : m.pullFrom === 'all' ? undefined : m.pullFrom;
      (mirrors[registry] ??= []).push({ location: m.location, ...(pullFrom ? { pullFrom } : {}) });
      if (m.insecure) insecure.push(host);
    }
  }
  const search = conf.unqualifiedSearch;
  const others = search?.list.filter((r) => canonicalRegistry(r) !== DEFAULT_DOMAIN) ?? [];
  if (search && others.length) {
    warnings.push(`${search.file}: unqualified-search-registries lists ${others.join(', ')}; tsbuild, like docker, reads short names as docker.io names only, so ${others.length > 1 ? 'they are' : 'it is'} not searched`);
  }
  const helpers = conf.credentialHelpers?.list.filter((h) => h !== 'containers-auth.json') ?? [];
  if (helpers.length) {
    warnings.push(`${conf.credentialHelpers!.file}: credential-helpers ${helpers.join(', ')} ${helpers.length > 1 ? 'are' : 'is'} not used; tsbuild takes credentials from ~/.docker/config.json (auths, credsStore, credHelpers)`);
  }
  const aliases = foreignAliases(conf.aliases);
  return {
    name: files.join(', '),
    mirrors,
    insecure,
    ...(Object.keys(blocked).length ? { blocked } : {}),
    ...(Object.keys(aliases).length ? { aliases } : {}),
    ...(warnings.length ? { warnings } : {}),
  };
}

function whyNotApplied(r: ContainersRegistry): string | undefined {
  if (r.prefix.startsWith('*.')) return 'tsbuild does not match registries by wildcard';
  if (r.prefix.includes('/') || r.location.includes('/')) return 'tsbuild applies registries.conf per registry host, not per namespace';
  if (canonicalRegistry(r.prefix) !== canonicalRegistry(r.location)) return 'tsbuild does not rewrite one registry to another';
  return undefined;
}

function describeSettings(r: ContainersRegistry): string {
  const parts = [
    r.location && r.location !== r.prefix ? `location "${r.location}"` : '',
    r.blocked ? 'blocked = true' : '',
    r.insecure ? 'insecure = true' : '',
    r.mirrors.length ? `mirrors ${r.mirrors.map((m) => m.location).join(', ')}` : '',
  ];
  return parts.filter(Boolean).join(', ');
}

/** Aliases that send a short name somewhere else than docker.io would (checked as containers/image checks them). */
function foreignAliases(aliases: RegistriesConf['conf']['aliases']): Record<string, ShortNameAlias> {
  const out: Record<string, ShortNameAlias> = {};
  for (const [name, { target, file }] of Object.entries(aliases)) {
    const bad = (why: string) => new LayerstoreError('TSBUILD_CONFIG_INVALID', `${file}: alias "${name}": ${why}`);
    let short, full;
    try {
      short = parseReference(name);
      full = target === null ? undefined : parseReference(target);
    } catch (err) {
      throw bad((err as Error).message);
    }
    if (short.domain !== DEFAULT_DOMAIN || name.startsWith(`${DEFAULT_DOMAIN}/`) || short.tag || short.digest) throw bad('the name must be a short name without registry, tag or digest');
    if (full === undefined) continue;
    if (!/^[^/]*[.:][^/]*\/|^localhost[:/]/.test(target!) || full.tag || full.digest) throw bad(`${JSON.stringify(target)} must be registry/repository without tag or digest`);
    if (full.domain === DEFAULT_DOMAIN && full.path === short.path) continue;
    out[short.path] = { target: `${full.domain}/${full.path}`, origin: file };
  }
  return out;
}
