/**
 * Combining the config sources. Each source (flags, tsbuild's file, registries.conf,
 * daemon.json) is first put in tsbuild's terms (a ConfigSource); `mergeSources` takes them
 * highest precedence first:
 *
 *   mirrors   per registry, the sources' lists one after the other; a mirror already listed
 *             (same host and namespace) is not listed again, so the first source's entry,
 *             with its settings, wins
 *   insecure  the union, in order, without repeats
 *   blocked   the union (with the file that blocks each registry, for errors to cite)
 *   aliases   only registries.conf has them
 *   warnings  all of them, in order
 */
import type { RegistryConfig, ShortNameAlias } from './config.js';
import { canonicalRegistry, mirrorKey, parseMirror, type Mirror } from './mirror.js';

export interface ConfigSource {
  /** `flags`, or the file (or files) it was read from. */
  name: string;
  /** Registry (as in references: `docker.io`, `host:5000`) -> mirrors, in order. */
  mirrors?: Record<string, Mirror[]>;
  /** `host`, `host:port`, or a CIDR (`10.0.0.0/8`) matching a registry's addresses. */
  insecure?: string[];
  /** Registries that may not be pulled from or pushed to -> the file that says so. */
  blocked?: Record<string, string>;
  aliases?: Record<string, ShortNameAlias>;
  /** What the source says that tsbuild does not do. */
  warnings?: string[];
}

export function mergeSources(sources: ConfigSource[]): RegistryConfig {
  const mirrors: Record<string, Mirror[]> = {};
  const seen = new Map<string, Set<string>>();
  const insecure = new Set<string>();
  const blocked: Record<string, string> = {};
  const aliases: Record<string, ShortNameAlias> = {};
  const warnings: string[] = [];
  for (const source of sources) {
    for (const [registry, list] of Object.entries(source.mirrors ?? {})) {
      const reg = canonicalRegistry(registry);
      const keys = seen.get(reg) ?? new Set<string>();
      seen.set(reg, keys);
      for (const mirror of list) {
        const key = mirrorKey(parseMirror(mirror, source.name));
        if (keys.has(key)) continue;
        keys.add(key);
        (mirrors[reg] ??= []).push(mirror);
      }
    }
    for (const host of source.insecure ?? []) insecure.add(host);
    for (const [registry, where] of Object.entries(source.blocked ?? {})) blocked[canonicalRegistry(registry)] ??= where;
    for (const [name, alias] of Object.entries(source.aliases ?? {})) aliases[name] ??= alias;
    warnings.push(...(source.warnings ?? []));
  }
  return {
    mirrors,
    insecure: [...insecure],
    ...(Object.keys(blocked).length ? { blocked } : {}),
    ...(Object.keys(aliases).length ? { aliases } : {}),
    ...(warnings.length ? { warnings } : {}),
  };
}
