/**
 * Finding and combining registries.conf files the way podman, buildah and skopeo do
 * (containers/image sysregistriesv2):
 *
 *   main file   $CONTAINERS_REGISTRIES_CONF (must exist), else $HOME/.config/containers/registries.conf
 *               if it exists, else /etc/containers/registries.conf (may be missing)
 *   drop-ins    *.conf in /etc/containers/registries.conf.d, then in
 *               $HOME/.config/containers/registries.conf.d, each directory in lexical order;
 *               only the user's directory when the main file is the user's. Sub-directories
 *               and other names are skipped.
 *
 * A later file's `[[registry]]` replaces an earlier one with the same prefix;
 * `unqualified-search-registries` and `credential-helpers` set in a later file replace the
 * earlier lists; aliases are merged, a later one winning ("" removes one).
 * `$TSBUILD_REGISTRIES_CONF_D` (or `opts.dir`) names the one drop-in directory to read
 * instead of both (empty: none), as containers/image's SystemRegistriesConfDirPath does.
 */
import { access, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LayerstoreError } from '../errors.js';
import { readConfigText } from './config-read.js';
import { parseRegistriesConf, type ContainersConf } from './registries-conf-parse.js';

export interface RegistriesConfOptions {
  env: NodeJS.ProcessEnv;
  /** The main file, instead of $CONTAINERS_REGISTRIES_CONF and the defaults; it must exist. */
  file?: string;
  /** The one drop-in directory to read ('' for none), instead of $TSBUILD_REGISTRIES_CONF_D and the defaults. */
  dir?: string;
  /** Prefix of /etc/containers (default `/`); tests point it at a temporary directory. */
  systemRoot?: string;
}

export interface RegistriesConf {
  conf: ContainersConf;
  /** Every file read, in order. */
  files: string[];
}

export async function readRegistriesConf(opts: RegistriesConfOptions): Promise<RegistriesConf | undefined> {
  const { file, mustExist, dirs } = await locate(opts);
  const files: string[] = [];
  const text = await readConfigText(file, { what: 'registries configuration', mustExist });
  let conf: ContainersConf = { registries: [], aliases: {} };
  if (text !== undefined) {
    conf = parseRegistriesConf(text, file);
    files.push(file);
  }
  for (const dropIn of await dropIns(dirs)) {
    const t = await readConfigText(dropIn, { what: 'registries drop-in', mustExist: false });
    if (t === undefined) continue; // removed since the listing, as containers/image allows
    conf = combine(conf, parseRegistriesConf(t, dropIn, { dropIn: true }));
    files.push(dropIn);
  }
  return files.length ? { conf, files } : undefined;
}

async function locate(opts: RegistriesConfOptions): Promise<{ file: string; mustExist: boolean; dirs: string[] }> {
  const { env } = opts;
  const root = opts.systemRoot ?? '/';
  const userBase = join(env.HOME || homedir(), '.config', 'containers');
  const systemFile = join(root, 'etc/containers/registries.conf');
  const systemDir = join(root, 'etc/containers/registries.conf.d');
  const userFile = join(userBase, 'registries.conf');
  const userDir = join(userBase, 'registries.conf.d');
  const explicitDir = opts.dir ?? env.TSBUILD_REGISTRIES_CONF_D;
  const chosenDirs = explicitDir === undefined ? undefined : explicitDir === '' ? [] : [explicitDir];
  const explicitFile = opts.file ?? (env.CONTAINERS_REGISTRIES_CONF || undefined);
  if (explicitFile !== undefined) return { file: explicitFile, mustExist: true, dirs: chosenDirs ?? [systemDir, userDir] };
  if (await access(userFile).then(() => true, () => false)) {
    return { file: userFile, mustExist: true, dirs: chosenDirs ?? [userDir] };
  }
  return { file: systemFile, mustExist: false, dirs: chosenDirs ?? [systemDir, userDir] };
}

async function dropIns(dirs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const dir of dirs) {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new LayerstoreError('TSBUILD_CONFIG_INVALID', `cannot read registries drop-in directory ${dir}: ${(err as Error).message}`, { cause: err });
    }
    const names = entries.filter((e) => !e.isDirectory() && e.name.endsWith('.conf')).map((e) => e.name);
    out.push(...names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((n) => join(dir, n)));
  }
  return out;
}

/** A drop-in on top of what came before it. */
function combine(base: ContainersConf, update: ContainersConf): ContainersConf {
  const byPrefix = new Map(base.registries.map((r) => [r.prefix, r]));
  for (const r of update.registries) byPrefix.set(r.prefix, r);
  const unqualifiedSearch = update.unqualifiedSearch ?? base.unqualifiedSearch;
  const credentialHelpers = update.credentialHelpers ?? base.credentialHelpers;
  return {
    registries: [...byPrefix.values()],
    aliases: { ...base.aliases, ...update.aliases },
    ...(unqualifiedSearch ? { unqualifiedSearch } : {}),
    ...(credentialHelpers ? { credentialHelpers } : {}),
  };
}
