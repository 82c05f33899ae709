import type { ContainerConfig, ImageConfig } from './types.js';

function sorted<T>(m: Record<string, T> | null | undefined): Record<string, T> | null | undefined {
  if (m === undefined || m === null) return m;
  return Object.fromEntries(Object.keys(m).sort().map((k) => [k, m[k]!]));
}

/**
 * The config with its map-valued fields in sorted key order, as Go's encoding/json
 * writes maps, so the same image gets the same bytes (and digest) as from docker build.
 */
export function canonicalConfig(config: ImageConfig): ImageConfig {
  const c = config.config;
  if (!c) return config;
  const out: ContainerConfig = { ...c };
  for (const k of ['ExposedPorts', 'Volumes', 'Labels'] as const) {
    if (out[k] !== undefined) (out as Record<string, unknown>)[k] = sorted(out[k] as Record<string, unknown>);
  }
  return { ...config, config: out };
}
