/**
 * Mirrors, insecure and blocked registries, from the configuration users already have.
 * Sources, highest precedence first (config-merge.ts says how they combine):
 *
 *   1. flags            `--registry-mirror HOST` (a docker.io mirror), `--insecure-registry HOST|CIDR`
 *   2. tsbuild's file   $TSBUILD_CONFIG, ~/.config/tsbuild/config.json, /etc/tsbuild/config.json (config-file.ts)
 *   3. registries.conf  and its drop-ins, as podman, buildah and skopeo read them (registries-conf*.ts)
 *   4. daemon.json      dockerd's registry-mirrors and insecure-registries (daemon-json.ts)
 *
 *   const config = await loadRegistryConfig({ mirrors: flags.registryMirror, insecure: flags.insecureRegistry });
 *   new RegistryClient({ config, onEvent })   // emits config.warnings as `warning` events
 *
 * Every path can be given in the options, so tests never read this machine's files.
 */
import { DEFAULT_DOMAIN } from '../reference.js';
import { readTsbuildConfig } from './config-file.js';
import { mergeSources, type ConfigSource } from './config-merge.js';
import { readDaemonJson } from './daemon-json.js';
import { checkInsecureEntries } from './insecure.js';
import { parseEndpoint, type Mirror } from './mirror.js';
import { readRegistriesConf } from './registries-conf.js';
import { registriesConfSource } from './registries-conf-map.js';

export { canonicalRegistry, type Mirror, type MirrorSpec } from './mirror.js';
export { parseRegistryConfig } from './config-file.js';

/** A short name registries.conf sends elsewhere than docker.io. */
export interface ShortNameAlias {
  /** `registry.fedoraproject.org/fedora` */
  target: string;
  /** The file that says so. */
  origin: string;
}

export interface RegistryConfig {
  /** Registry (as written in references: `docker.io`, `host:5000`) -> mirrors, tried in order. */
  mirrors?: Record<string, Mirror[]>;
  /** Hosts (`host` or `host:port`) or CIDRs spoken to over plain HTTP. */
  insecure?: string[];
  /** Registries no pull, push or login may use -> the file that blocks it. */
  blocked?: Record<string, string>;
  /** Short names (`fedora`, as a docker.io path without `library/`) that registries.conf aliases elsewhere. */
  aliases?: Record<string, ShortNameAlias>;
  /** Settings of the sources that tsbuild does not apply, said once per client as `warning` events. */
  warnings?: string[];
}

export interface LoadConfigOptions {
  /** tsbuild's file instead of $TSBUILD_CONFIG and the defaults; it must exist. */
  file?: string;
  /** tsbuild's machine-wide file (default /etc/tsbuild/config.json). */
  systemFile?: string;
  /** For HOME, XDG_CONFIG_HOME and the variables that name files (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** `--registry-mirror` flags: mirrors of docker.io. */
  mirrors?: string[];
  /** `--insecure-registry` flags. */
  insecure?: string[];
  /** registries.conf instead of $CONTAINERS_REGISTRIES_CONF and the defaults; it must exist. */
  registriesConf?: string;
  /** The one registries.conf.d to read ('' for none) instead of $TSBUILD_REGISTRIES_CONF_D and the defaults. */
  registriesConfDir?: string;
  /** daemon.json instead of $TSBUILD_DOCKER_DAEMON_JSON and /etc/docker/daemon.json ('' for none). */
  daemonJson?: string;
  /** Where the machine-wide /etc/containers and /etc/docker are (default `/`). */
  systemRoot?: string;
}

export async function loadRegistryConfig(opts: LoadConfigOptions = {}): Promise<RegistryConfig> {
  const env = opts.env ?? process.env;
  const systemRoot = opts.systemRoot ?? '/';
  const sources: Array<ConfigSource | undefined> = [
    flagsSource(opts.mirrors ?? [], opts.insecure ?? []),
    await readTsbuildConfig({ env, ...(opts.file !== undefined ? { file: opts.file } : {}), ...(opts.systemFile !== undefined ? { systemFile: opts.systemFile } : {}) }),
    await readRegistriesConf({ env, systemRoot, ...(opts.registriesConf !== undefined ? { file: opts.registriesConf } : {}), ...(opts.registriesConfDir !== undefined ? { dir: opts.registriesConfDir } : {}) }).then((r) => r && registriesConfSource(r)),
    await readDaemonJson({ env, systemRoot, ...(opts.daemonJson !== undefined ? { file: opts.daemonJson } : {}) }),
  ];
  return mergeSources(sources.filter((s) => s !== undefined));
}

function flagsSource(mirrors: string[], insecure: string[]): ConfigSource {
  for (const m of mirrors) parseEndpoint(m, '--registry-mirror');
  checkInsecureEntries(insecure, '--insecure-registry', 'the value');
  return { name: 'flags', mirrors: mirrors.length ? { [DEFAULT_DOMAIN]: mirrors } : {}, insecure };
}
