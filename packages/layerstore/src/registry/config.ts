/**
 * Mirrors and insecure registries: a small JSON file plus command-line flags.
 *
 *   { "mirrors":  { "docker.io": ["mirror.internal:5000", "https://mirror.gcr.io"] },
 *     "insecure": ["mirror.internal:5000", "registry.lan"] }
 *
 * The file is `opts.file`, else `$TSBUILD_CONFIG` (both must exist), else the first of
 * `$XDG_CONFIG_HOME/tsbuild/config.json` (default `~/.config/...`) and
 * `/etc/tsbuild/config.json` that exists; none at all is an empty config. Other top-level
 * keys are left for other parts of tsbuild. `--registry-mirror` flags go before the
 * file's docker.io mirrors; `--insecure-registry` flags add to `insecure`.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LayerstoreError } from '../errors.js';
import { DEFAULT_DOMAIN } from '../reference.js';

export interface RegistryConfig {
  /** Registry (as written in references: `docker.io`, `host:5000`) -> mirror endpoints, tried in order. */
  mirrors?: Record<string, string[]>;
  /** Hosts (`host` or `host:port`) spoken to over plain HTTP. */
  insecure?: string[];
}

export interface LoadConfigOptions {
  file?: string;
  /** The machine-wide file (default /etc/tsbuild/config.json); tests point it elsewhere. */
  systemFile?: string;
  env?: NodeJS.ProcessEnv;
  /** `--registry-mirror` flags: mirrors of docker.io. */
  mirrors?: string[];
  /** `--insecure-registry` flags. */
  insecure?: string[];
}

const MAX_CONFIG_FILE = 1024 * 1024;

export async function loadRegistryConfig(opts: LoadConfigOptions = {}): Promise<RegistryConfig> {
  const env = opts.env ?? process.env;
  const explicit = opts.file ?? (env.TSBUILD_CONFIG || undefined);
  const candidates = explicit !== undefined ? [explicit] : [join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'tsbuild', 'config.json'), opts.systemFile ?? '/etc/tsbuild/config.json'];
  let fromFile: RegistryConfig = {};
  for (const file of candidates) {
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' && explicit === undefined) return undefined;
      throw new LayerstoreError('TSBUILD_CONFIG_INVALID', `cannot read tsbuild config ${file}: ${err.message}`, { cause: err });
    });
    if (text === undefined) continue;
    fromFile = parseRegistryConfig(text, file);
    break;
  }
  const mirrors: Record<string, string[]> = {};
  for (const [registry, list] of Object.entries(fromFile.mirrors ?? {})) mirrors[canonicalRegistry(registry)] = [...(mirrors[canonicalRegistry(registry)] ?? []), ...list];
  if (opts.mirrors?.length) mirrors[DEFAULT_DOMAIN] = [...opts.mirrors, ...(mirrors[DEFAULT_DOMAIN] ?? [])];
  const config: RegistryConfig = { mirrors, insecure: [...new Set([...(fromFile.insecure ?? []), ...(opts.insecure ?? [])])] };
  validate(config, 'flags');
  return config;
}

/** Parse and check a config file's text. */
export function parseRegistryConfig(text: string, where: string): RegistryConfig {
  if (text.length > MAX_CONFIG_FILE) throw new LayerstoreError('TSBUILD_CONFIG_INVALID', `${where}: larger than ${MAX_CONFIG_FILE} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new LayerstoreError('TSBUILD_CONFIG_INVALID', `${where}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new LayerstoreError('TSBUILD_CONFIG_INVALID', `${where}: want a JSON object`);
  const { mirrors, insecure } = doc as Record<string, unknown>;
  const config: RegistryConfig = {};
  if (mirrors !== undefined) config.mirrors = mirrors as Record<string, string[]>;
  if (insecure !== undefined) config.insecure = insecure as string[];
  validate(config, where);
  return config;
}

function validate(config: RegistryConfig, where: string): void {
  const bad = (why: string) => new LayerstoreError('TSBUILD_CONFIG_INVALID', `${where}: ${why}`);
  const { mirrors, insecure } = config;
  if (mirrors !== undefined) {
    if (typeof mirrors !== 'object' || mirrors === null || Array.isArray(mirrors)) throw bad('"mirrors" must map a registry to a list of mirrors');
    for (const [registry, list] of Object.entries(mirrors)) {
      if (!Array.isArray(list) || list.some((m) => typeof m !== 'string')) throw bad(`"mirrors"."${registry}" must be a list of strings`);
      for (const m of list) parseEndpoint(m, where);
    }
  }
  if (insecure !== undefined) {
    if (!Array.isArray(insecure) || insecure.some((h) => typeof h !== 'string' || !HOST_RE.test(h))) throw bad('"insecure" must be a list of host or host:port');
  }
}

const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** `index.docker.io` and `registry-1.docker.io` are docker.io. */
export function canonicalRegistry(host: string): string {
  const h = host.toLowerCase();
  return h === 'index.docker.io' || h === 'registry-1.docker.io' ? DEFAULT_DOMAIN : host;
}

/** `host[:port]` or `http(s)://host[:port][/]` -> scheme and host. */
export function parseEndpoint(spec: string, where: string): { scheme?: 'http' | 'https'; host: string } {
  const bad = () => new LayerstoreError('TSBUILD_CONFIG_INVALID', `${where}: invalid mirror ${JSON.stringify(spec)}: want host[:port] or http(s)://host[:port]`);
  const m = /^(?:(https?):\/\/)?([^/]+)\/?$/.exec(spec.trim());
  if (!m || !HOST_RE.test(m[2]!)) throw bad();
  return m[1] ? { scheme: m[1] as 'http' | 'https', host: m[2]! } : { host: m[2]! };
}
