/**
 * tsbuild's own registry config: a small JSON file.
 *
 *   { "mirrors":  { "docker.io": ["mirror.internal:5000", "https://mirror.gcr.io"] },
 *     "insecure": ["mirror.internal:5000", "registry.lan"] }
 *
 * The file is `opts.file`, else `$TSBUILD_CONFIG` (both must exist), else the first of
 * `$XDG_CONFIG_HOME/tsbuild/config.json` (default `~/.config/...`) and
 * `/etc/tsbuild/config.json` that exists; none at all contributes nothing. Other top-level
 * keys are left for other parts of tsbuild.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LayerstoreError } from '../errors.js';
import type { ConfigSource } from './config-merge.js';
import { readConfigText } from './config-read.js';
import { HOST_RE, parseEndpoint } from './mirror.js';

export interface TsbuildConfigFile {
  mirrors?: Record<string, string[]>;
  insecure?: string[];
}

const MAX_CONFIG_FILE = 1024 * 1024;

export async function readTsbuildConfig(opts: { file?: string; systemFile?: string; env: NodeJS.ProcessEnv }): Promise<ConfigSource | undefined> {
  const { env } = opts;
  const explicit = opts.file ?? (env.TSBUILD_CONFIG || undefined);
  const candidates = explicit !== undefined ? [explicit] : [join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'tsbuild', 'config.json'), opts.systemFile ?? '/etc/tsbuild/config.json'];
  for (const file of candidates) {
    const text = await readConfigText(file, { what: 'tsbuild config', mustExist: explicit !== undefined });
    if (text === undefined) continue;
    const parsed = parseRegistryConfig(text, file);
    return { name: file, mirrors: parsed.mirrors ?? {}, insecure: parsed.insecure ?? [] };
  }
  return undefined;
}

/** Parse and check a config file's text. */
export function parseRegistryConfig(text: string, where: string): TsbuildConfigFile {
  if (text.length > MAX_CONFIG_FILE) throw new LayerstoreError('TSBUILD_CONFIG_INVALID', `${where}: larger than ${MAX_CONFIG_FILE} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new LayerstoreError('TSBUILD_CONFIG_INVALID', `${where}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new LayerstoreError('TSBUILD_CONFIG_INVALID', `${where}: want a JSON object`);
  const { mirrors, insecure } = doc as Record<string, unknown>;
  const config: TsbuildConfigFile = {};
  if (mirrors !== undefined) config.mirrors = checkMirrors(mirrors, where);
  if (insecure !== undefined) config.insecure = checkHosts(insecure, where, '"insecure"');
  return config;
}

function checkMirrors(mirrors: unknown, where: string): Record<string, string[]> {
  const bad = (why: string) => new LayerstoreError('TSBUILD_CONFIG_INVALID', `${where}: ${why}`);
  if (typeof mirrors !== 'object' || mirrors === null || Array.isArray(mirrors)) throw bad('"mirrors" must map a registry to a list of mirrors');
  for (const [registry, list] of Object.entries(mirrors)) {
    if (!Array.isArray(list) || list.some((m) => typeof m !== 'string')) throw bad(`"mirrors"."${registry}" must be a list of strings`);
    for (const m of list as string[]) parseEndpoint(m, where);
  }
  return mirrors as Record<string, string[]>;
}

/** A list of `host` or `host:port` (flags and tsbuild's file). */
export function checkHosts(hosts: unknown, where: string, what: string): string[] {
  if (!Array.isArray(hosts) || hosts.some((h) => typeof h !== 'string' || !HOST_RE.test(h))) {
    throw new LayerstoreError('TSBUILD_CONFIG_INVALID', `${where}: ${what} must be a list of host or host:port`);
  }
  return hosts as string[];
}
