/**
 * What the command line looks like before yargs sees it: the global options, `tsbuild
 * run`'s options, and where the command word and IMAGE are. Which flags take a value is
 * read from the same option definitions yargs is given, so the two cannot drift apart.
 */
import type { Options } from 'yargs';
import { ISOLATION_OPTION } from './isolation-flag.js';
import { RUN_LIMIT_OPTIONS } from './limit-flags.js';

/** Options of every command, before or after the command word. */
export const GLOBAL_OPTIONS = {
  'registry-mirror': { type: 'string', global: true, describe: 'Mirror of docker.io to try first (repeatable; also in the config file)' },
  'insecure-registry': { type: 'string', global: true, describe: 'Registry reached over plain http (repeatable; also in the config file)' },
} as const satisfies Record<string, Options>;

/** Options of `tsbuild run` (between `run` and IMAGE). */
export const RUN_OPTIONS = {
  rm: { type: 'boolean', default: false, describe: 'Accepted for docker compatibility: the container is always removed' },
  env: { alias: 'e', type: 'string', default: [] as string[], describe: 'Set an environment variable (KEY=VALUE, or KEY from this environment)' },
  volume: { alias: 'v', type: 'string', default: [] as string[], describe: 'Bind mount HOST-PATH:CONTAINER-PATH[:ro]' },
  tmpfs: { type: 'string', default: [] as string[], describe: 'Mount a tmpfs at PATH[:options]' },
  ...RUN_LIMIT_OPTIONS,
  network: { type: 'string', default: 'default', describe: 'default (a network of its own with outbound access; also bridge), host or none' },
  publish: { alias: 'p', type: 'string', default: [] as string[], describe: 'Publish a container port on the host: HOSTPORT:CONTAINERPORT, optionally HOSTIP: before and /udp after (repeatable)' },
  workdir: { alias: 'w', type: 'string', describe: 'Working directory inside the container' },
  user: { alias: 'u', type: 'string', describe: 'USER[:GROUP] (names or ids)' },
  entrypoint: { type: 'string', describe: 'Override the image\'s ENTRYPOINT' },
  hostname: { type: 'string', describe: 'Container host name' },
  ...ISOLATION_OPTION,
} as const satisfies Record<string, Options>;

/** `--name` and `-a` (each alias) of every option that is not a boolean. */
export function valueFlags(defs: Record<string, Options>): Set<string> {
  const out = new Set<string>();
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === 'boolean' || def.boolean === true || def.count === true) continue;
    const aliases = def.alias === undefined ? [] : Array.isArray(def.alias) ? def.alias : [def.alias];
    for (const n of [name, ...aliases]) out.add(n.length === 1 ? `-${n}` : `--${n}`);
  }
  return out;
}

const GLOBAL_VALUE_FLAGS = valueFlags(GLOBAL_OPTIONS);
const RUN_VALUE_FLAGS = new Set([...GLOBAL_VALUE_FLAGS, ...valueFlags(RUN_OPTIONS)]);

/** The first word that is not an option or an option's value, from `start` (`at` -1: none), and whether `--` came just before it. */
function firstWord(argv: readonly string[], start: number, valued: ReadonlySet<string>): { at: number; dashes: boolean } {
  for (let i = start; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return i + 1 < argv.length ? { at: i + 1, dashes: true } : { at: -1, dashes: false };
    if (!a.startsWith('-') || a === '-') return { at: i, dashes: false };
    if (!a.includes('=') && valued.has(a)) i++;
  }
  return { at: -1, dashes: false };
}

/**
 * For `tsbuild run`, everything after IMAGE belongs to the container (like docker run):
 * split it off before option parsing so `run busybox ls -l` passes `-l` through.
 * `--` before IMAGE ends the options (and is dropped).
 */
export function splitRunArgv(argv: readonly string[]): { argv: string[]; containerArgs: string[] } {
  const run = firstWord(argv, 0, GLOBAL_VALUE_FLAGS);
  if (run.at === -1 || run.dashes || argv[run.at] !== 'run') return { argv: [...argv], containerArgs: [] };
  const image = firstWord(argv, run.at + 1, RUN_VALUE_FLAGS);
  if (image.at === -1) return { argv: [...argv], containerArgs: [] };
  const options = argv.slice(0, image.dashes ? image.at - 1 : image.at);
  return { argv: [...options, argv[image.at]!], containerArgs: argv.slice(image.at + 1) };
}

/**
 * The build CONTEXT as given. yargs re-parses positionals as `--context VALUE` and turns
 * a lone `-` into '' there (an option's value may not start with a dash), so '' with a
 * `-` word on the command line is `build -` (stdin). A `-` that was another option's value
 * (`-f -`) leaves a real context alone, so it cannot be mistaken for one.
 */
export function contextArg(parsed: string, argv: readonly string[]): string {
  return parsed === '' && argv.includes('-') ? '-' : parsed;
}
