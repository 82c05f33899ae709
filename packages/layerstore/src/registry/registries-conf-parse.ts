/**
 * One registries.conf file (containers-registries.conf(5)), checked as containers/image's
 * sysregistriesv2 checks it, into a plain value:
 *
 *   unqualified-search-registries = ["docker.io"]
 *   [[registry]]
 *   prefix = "docker.io"                  # optional, default: location; "*.example.com" matches subdomains
 *   location = "docker.io"
 *   insecure = false                      # plain HTTP / unverified TLS allowed
 *   blocked = false                       # no pulls (or pushes)
 *   mirror-by-digest-only = false         # mirrors only for pulls by digest
 *   [[registry.mirror]]
 *   location = "mirror.internal:5000"
 *   insecure = true
 *   pull-from-mirror = "all"              # or "digest-only", "tag-only"
 *   [aliases]
 *   "fedora" = "registry.fedoraproject.org/fedora"
 *
 * The old v1 format (`[registries.search]`, `[registries.insecure]`, `[registries.block]`,
 * each with `registries = [...]`) is converted, but not in drop-ins and not mixed with v2.
 * Within one file the first `[[registry]]` of a prefix wins. Keys of other programs
 * (credential helpers, short-name-mode, additional-layer-store-auth-helper) are kept or
 * checked only as far as tsbuild reports on them; unknown keys are ignored, as there.
 * Errors are TSBUILD_CONFIG_INVALID naming the file, and the line for TOML syntax.
 */
import { parse, TomlError } from 'smol-toml';
import { LayerstoreError } from '../errors.js';
import { HOST_RE } from './mirror.js';

export type PullFrom = 'all' | 'digest-only' | 'tag-only';

export interface ContainersMirror {
  location: string;
  insecure: boolean;
  pullFrom?: PullFrom;
}

export interface ContainersRegistry {
  prefix: string;
  /** Empty only for a wildcard prefix. */
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrorByDigestOnly: boolean;
  mirrors: ContainersMirror[];
  /** The file this entry came from. */
  file: string;
}

export interface ContainersConf {
  registries: ContainersRegistry[];
  unqualifiedSearch?: { list: string[]; file: string };
  /** Short name -> fully qualified name; null removes an alias set by an earlier file. */
  aliases: Record<string, { target: string | null; file: string }>;
  credentialHelpers?: { list: string[]; file: string };
}

const SHORT_NAME_MODES = ['disabled', 'enforcing', 'permissive'];
const V2_KEYS = ['registry', 'unqualified-search-registries', 'credential-helpers', 'short-name-mode', 'additional-layer-store-auth-helper', 'aliases'];

export function parseRegistriesConf(text: string, file: string, opts: { dropIn?: boolean } = {}): ContainersConf {
  const bad = (why: string) => new LayerstoreError('TSBUILD_CONFIG_INVALID', `${file}: ${why}`);
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const why = err.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
    throw new LayerstoreError('TSBUILD_CONFIG_INVALID', `${file}:${err.line}: not valid TOML: ${why}`, { cause: err });
  }
  const v = new Values(file);
  if (doc.registries !== undefined) {
    if (opts.dropIn) throw bad('a drop-in must use the v2 format ([[registry]]), not [registries.*]');
    if (V2_KEYS.some((k) => doc[k] !== undefined)) throw bad('mixes the v1 format ([registries.*]) with v2 keys');
    return fromV1(v.table(doc.registries, 'registries'), file, v);
  }
  const conf: ContainersConf = { registries: [], aliases: {} };
  const seen = new Map<string, ContainersRegistry>();
  const all: ContainersRegistry[] = [];
  for (const [i, entry] of v.tables(doc.registry, 'registry').entries()) {
    const reg = registryEntry(entry, `[[registry]] #${i + 1}`, file, v);
    const same = all.find((r) => (r.location || r.prefix) === (reg.location || reg.prefix));
    all.push(reg);
    if (same && same.insecure !== reg.insecure) throw bad(`registry "${reg.location}" is defined more than once with different "insecure" settings`);
    if (same && same.blocked !== reg.blocked) throw bad(`registry "${reg.location}" is defined more than once with different "blocked" settings`);
    if (!seen.has(reg.prefix)) seen.set(reg.prefix, reg);
  }
  conf.registries = [...seen.values()];
  if (doc['unqualified-search-registries'] !== undefined) {
    const list = v.strings(doc['unqualified-search-registries'], 'unqualified-search-registries').map((r) => r.replace(/\/+$/, ''));
    const wrong = list.find((r) => !HOST_RE.test(r));
    if (wrong !== undefined) throw bad(`invalid unqualified-search-registries entry ${JSON.stringify(wrong)}`);
    conf.unqualifiedSearch = { list, file };
  }
  if (doc['credential-helpers'] !== undefined) conf.credentialHelpers = { list: v.strings(doc['credential-helpers'], 'credential-helpers'), file };
  const mode = doc['short-name-mode'];
  if (mode !== undefined && mode !== '' && !SHORT_NAME_MODES.includes(v.string(mode, 'short-name-mode'))) throw bad(`invalid short-name-mode ${JSON.stringify(mode)}`);
  for (const [name, target] of Object.entries(v.table(doc.aliases ?? {}, 'aliases'))) {
    conf.aliases[name] = { target: v.string(target, `aliases."${name}"`) || null, file };
  }
  return conf;
}

function registryEntry(entry: Record<string, unknown>, where: string, file: string, v: Values): ContainersRegistry {
  const bad = (why: string) => new LayerstoreError('TSBUILD_CONFIG_INVALID', `${file}: ${where}: ${why}`);
  const location = cleanLocation(v.string(entry.location ?? '', `${where} location`), bad);
  let prefix = cleanLocation(v.string(entry.prefix ?? '', `${where} prefix`), bad);
  if (prefix === '') {
    if (location === '') throw bad('neither location nor prefix is set');
    prefix = location;
  } else if (location === '' && !prefix.startsWith('*.')) {
    throw bad(`location is unset and prefix ${JSON.stringify(prefix)} is not of the form *.example.com`);
  }
  if (prefix.startsWith('*.') && /[/@:]/.test(prefix)) throw bad(`wildcard prefix ${JSON.stringify(prefix)} must be of the form *.example.com`);
  if (entry['pull-from-mirror'] !== undefined) throw bad('pull-from-mirror may only be set on a [[registry.mirror]]');
  const mirrorByDigestOnly = v.bool(entry['mirror-by-digest-only'] ?? false, `${where} mirror-by-digest-only`);
  const mirrors = v.tables(entry.mirror, `${where} mirror`).map((m, j): ContainersMirror => {
    const at = `${where} mirror #${j + 1}`;
    const loc = cleanLocation(v.string(m.location ?? '', `${at} location`), bad);
    if (loc === '') throw bad(`${at}: location is unset`);
    const pullFrom = m['pull-from-mirror'] === undefined ? undefined : v.string(m['pull-from-mirror'], `${at} pull-from-mirror`);
    if (pullFrom !== undefined && pullFrom !== '' && !['all', 'digest-only', 'tag-only'].includes(pullFrom)) throw bad(`${at}: unsupported pull-from-mirror ${JSON.stringify(pullFrom)}`);
    if (pullFrom && mirrorByDigestOnly) throw bad(`${at}: pull-from-mirror cannot be combined with the registry's mirror-by-digest-only`);
    return { location: loc, insecure: v.bool(m.insecure ?? false, `${at} insecure`), ...(pullFrom ? { pullFrom: pullFrom as PullFrom } : {}) };
  });
  return {
    prefix,
    location,
    insecure: v.bool(entry.insecure ?? false, `${where} insecure`),
    blocked: v.bool(entry.blocked ?? false, `${where} blocked`),
    mirrorByDigestOnly,
    mirrors,
    file,
  };
}

function cleanLocation(value: string, bad: (why: string) => Error): string {
  const trimmed = value.replace(/\/+$/, '');
  if (/^https?:\/\//.test(trimmed)) throw bad(`invalid location ${JSON.stringify(value)}: URI schemes are not supported`);
  return trimmed;
}

function fromV1(v1: Record<string, unknown>, file: string, v: Values): ContainersConf {
  const list = (key: string) => v.strings(v.table(v1[key] ?? {}, `registries.${key}`).registries ?? [], `registries.${key}.registries`);
  const byLocation = new Map<string, ContainersRegistry>();
  const get = (location: string) => {
    const loc = cleanLocation(location, (why) => new LayerstoreError('TSBUILD_CONFIG_INVALID', `${file}: ${why}`));
    let reg = byLocation.get(loc);
    if (!reg) byLocation.set(loc, (reg = { prefix: loc, location: loc, insecure: false, blocked: false, mirrorByDigestOnly: false, mirrors: [], file }));
    return reg;
  };
  for (const r of list('block')) get(r).blocked = true;
  for (const r of list('insecure')) get(r).insecure = true;
  const search = v1.search === undefined ? undefined : list('search');
  return { registries: [...byLocation.values()], aliases: {}, ...(search ? { unqualifiedSearch: { list: search, file } } : {}) };
}

/** Type checks that name the key. */
class Values {
  constructor(private readonly file: string) {}
  private bad(key: string, want: string): Error {
    return new LayerstoreError('TSBUILD_CONFIG_INVALID', `${this.file}: ${key} must be ${want}`);
  }
  string(x: unknown, key: string): string {
    if (typeof x !== 'string') throw this.bad(key, 'a string');
    return x;
  }
  bool(x: unknown, key: string): boolean {
    if (typeof x !== 'boolean') throw this.bad(key, 'true or false');
    return x;
  }
  strings(x: unknown, key: string): string[] {
    if (!Array.isArray(x) || x.some((s) => typeof s !== 'string')) throw this.bad(key, 'a list of strings');
    return x as string[];
  }
  table(x: unknown, key: string): Record<string, unknown> {
    if (typeof x !== 'object' || x === null || Array.isArray(x) || x instanceof Date) throw this.bad(key, 'a table');
    return x as Record<string, unknown>;
  }
  tables(x: unknown, key: string): Array<Record<string, unknown>> {
    if (x === undefined) return [];
    if (!Array.isArray(x)) throw this.bad(key, 'an array of tables ([[...]])');
    return x.map((t) => this.table(t, key));
  }
}
