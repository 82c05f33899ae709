/**
 * dockerd's daemon.json, for the two settings `docker pull` gets from it:
 *
 *   { "registry-mirrors": ["https://mirror.gcr.io", "http://10.0.0.5:5000"],
 *     "insecure-registries": ["registry.lan:5000", "10.0.0.0/8"] }
 *
 * `registry-mirrors` are mirrors of docker.io and need a scheme, as dockerd requires; a
 * mirror with a path (dockerd sends its requests under that path) is skipped with a warning.
 * `insecure-registries` are host[:port] or CIDRs (see insecure.ts); an `http://` or
 * `https://` in front is dropped, as dockerd does. Other keys are dockerd's own.
 *
 * The file is `opts.file`, else `$TSBUILD_DOCKER_DAEMON_JSON` (it must exist; an empty
 * value means no daemon.json), else /etc/docker/daemon.json when it exists. An empty file
 * is an empty config. Anything dockerd would refuse to start with is TSBUILD_CONFIG_INVALID
 * naming the file.
 */
import { join } from 'node:path';
import { LayerstoreError } from '../errors.js';
import { DEFAULT_DOMAIN } from '../reference.js';
import type { ConfigSource } from './config-merge.js';
import { readConfigText } from './config-read.js';
import { checkInsecureEntries } from './insecure.js';
import { HOST_RE } from './mirror.js';

export async function readDaemonJson(opts: { env: NodeJS.ProcessEnv; file?: string; systemRoot?: string }): Promise<ConfigSource | undefined> {
  const explicit = opts.file ?? opts.env.TSBUILD_DOCKER_DAEMON_JSON;
  if (explicit === '') return undefined;
  const file = explicit ?? join(opts.systemRoot ?? '/', 'etc/docker/daemon.json');
  const text = await readConfigText(file, { what: 'docker daemon config', mustExist: explicit !== undefined });
  return text === undefined ? undefined : parseDaemonJson(text, file);
}

export function parseDaemonJson(text: string, file: string): ConfigSource {
  const bad = (why: string) => new LayerstoreError('TSBUILD_CONFIG_INVALID', `${file}: ${why}`);
  if (text.trim() === '') return { name: file };
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    const message = (err as Error).message;
    const at = /position (\d+)/.exec(message)?.[1];
    const line = at === undefined ? '' : `:${text.slice(0, Number(at)).split('\n').length}`;
    throw new LayerstoreError('TSBUILD_CONFIG_INVALID', `${file}${line}: not valid JSON: ${message.split('\n')[0]}`, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('want a JSON object');
  const raw = doc as Record<string, unknown>;
  const warnings: string[] = [];
  const mirrors: string[] = [];
  const list = (key: string) => {
    const v = raw[key] ?? [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw bad(`"${key}" must be a list of strings`);
    return v as string[];
  };
  for (const m of list('registry-mirrors')) {
    const url = /^(https?):\/\/([^/?#@]+)(\/[^?#]*)?$/.exec(m.trim());
    if (!url || !HOST_RE.test(url[2]!)) throw bad(`invalid registry mirror ${JSON.stringify(m)}: want http(s)://host[:port]`);
    if (url[3] && url[3] !== '/') {
      warnings.push(`${file}: registry mirror ${m} has a path, which dockerd puts in front of its requests and tsbuild does not support; the mirror is not used`);
      continue;
    }
    mirrors.push(`${url[1]}://${url[2]}`);
  }
  const insecure = list('insecure-registries').map((r) => {
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(r);
    if (scheme && !/^https?$/i.test(scheme[1]!)) throw bad(`insecure registry ${JSON.stringify(r)} must not contain '://'`);
    return scheme ? r.slice(scheme[0].length).replace(/\/+$/, '') : r;
  });
  checkInsecureEntries(insecure, file, '"insecure-registries"');
  return {
    name: file,
    mirrors: mirrors.length ? { [DEFAULT_DOMAIN]: mirrors } : {},
    insecure,
    ...(warnings.length ? { warnings } : {}),
  };
}
