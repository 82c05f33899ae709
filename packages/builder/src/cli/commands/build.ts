/** `tsbuild [build]`: flags -> build() -> exports, iidfile, exit status. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Store, cloneStore, copyImage, defaultStoreRoot, discardStore, familiarString, parseTag } from '@tsbuild/layerstore';
import { openRegistry, type Registry } from '../registry.js';
import { build, explainDifference, NotReproducibleError, type BuildOptions, type BuildResult } from '../../solve/index.js';
import { parseEntitlements } from '../../plan/entitlements.js';
import { UsageError } from '../../errors.js';
import { loadOutput, parseCompressionFlags, parseOutput, withCompressionDefaults, type OutputSpec } from '../../export/outputs.js';
import { exportBuild, pushPlans, type ExportResult } from '../../export/plan.js';
import { createRenderer, registryWarning, type ProgressMode } from '../../progress/index.js';
import { withBuildContext } from '../../context/context-arg.js';
import { contextArg } from '../argv.js';
import { CommandLineError, list, registryFlags, type Command } from '../command.js';
import type { Io } from '../io.js';
import { BUILD_LIMIT_OPTIONS, limitFlags, parseLimits, type LimitFlags } from '../limit-flags.js';
import { parsePlatform } from '../platform-flag.js';
import { ISOLATION_OPTION, parseIsolation } from '../isolation-flag.js';
import type { Isolation } from '@tsbuild/executor';

export const buildCommand: Command = {
  command: ['build [context]', '$0 [context]'],
  describe: 'Build an image from a Dockerfile',
  builder: (y) =>
    y
      .positional('context', { type: 'string', describe: 'Build context directory, or - (stdin: a Dockerfile or a context tar)' })
      .option('file', { alias: 'f', type: 'string', describe: 'Dockerfile (default: CONTEXT/Dockerfile; - reads stdin)' })
      .option('tag', { alias: 't', type: 'string', default: [] as string[], describe: 'Name and tag the image (name:tag)' })
      .option('build-arg', { type: 'string', default: [] as string[], describe: 'Set a build-time variable (KEY=VALUE)' })
      .option('label', { type: 'string', default: [] as string[], describe: 'Set a label on the image (KEY=VALUE)' })
      .option('target', { type: 'string', describe: 'Build this stage' })
      .option('output', { alias: 'o', type: 'string', default: [] as string[], describe: 'Export: type=oci|docker|local,dest=PATH or type=registry,name=REF (and tar=false, compression=gzip, zstd or uncompressed, oci-mediatypes=true or false)' })
      .option('compression', { type: 'string', describe: 'Layer compression of exports: gzip (oci default), zstd or uncompressed; -o ...,compression= wins' })
      .option('compression-level', { type: 'string', describe: 'Compression level of exports (gzip 0-9, zstd 1-22); -o ...,compression-level= wins' })
      .option('iidfile', { type: 'string', describe: 'Write the image ID to this file' })
      .option('progress', { type: 'string', default: 'auto', describe: 'auto, plain, tty or json' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress; print the image ID' })
      .option('push', { type: 'boolean', default: false, describe: 'Push every -t name to its registry after the build' })
      .option('load', { type: 'boolean', default: false, describe: 'Load the image into docker (docker load; needs a docker CLI)' })
      .option('pull', { type: 'boolean', default: false, describe: 'Ask registries again what base image tags point at' })
      .option('no-cache', { type: 'boolean', default: false, describe: 'Run every step instead of reusing cached ones' })
      .option('allow', { type: 'string', default: [] as string[], describe: 'Grant an entitlement: network.host (lets RUN --network=host use the host network)' })
      .option('platform', { type: 'string', describe: 'Platform of the image: this machine\'s (another one, or a list, is not supported yet)' })
      .option('metadata-file', { type: 'string', describe: 'Write the image digests and names as JSON' })
      .option('reproducible-check', { type: 'boolean', default: false, describe: 'Build twice in fresh stores; fail, naming the first difference, unless the images are identical' })
      .options(BUILD_LIMIT_OPTIONS)
      .options(ISOLATION_OPTION),
  handler: async (a, io) => {
    if (a.version) return 0; // `tsbuild --version`: the entry prints it
    const context = a.context === undefined ? undefined : contextArg(a.context as string, io.argv);
    if (context === undefined || context === '') throw new CommandLineError('a build context is required: a directory (`tsbuild -t app .`) or - for stdin');
    const args: BuildArgs = {
      context,
      tag: list(a.tag),
      buildArg: list(a['build-arg']),
      label: list(a.label),
      output: list(a.output),
      progress: a.progress as string,
      quiet: a.quiet as boolean,
      reproducibleCheck: a['reproducible-check'] as boolean,
      push: a.push as boolean,
      load: a.load as boolean,
      pull: a.pull as boolean,
      noCache: a['no-cache'] as boolean,
      allow: list(a.allow),
      ...registryFlags(a),
      limits: limitFlags(a),
      isolation: parseIsolation(a.isolation, io.env),
      ...(a.platform !== undefined ? { platform: a.platform as string } : {}),
      ...(a['metadata-file'] !== undefined ? { metadataFile: a['metadata-file'] as string } : {}),
      ...(a.file !== undefined ? { file: a.file as string } : {}),
      ...(a.target !== undefined ? { target: a.target as string } : {}),
      ...(a.iidfile !== undefined ? { iidfile: a.iidfile as string } : {}),
      ...(a.compression !== undefined ? { compression: list(a.compression).at(-1)! } : {}),
      ...(a['compression-level'] !== undefined ? { compressionLevel: list(a['compression-level']).at(-1)! } : {}),
    };
    const stdinContext = { stdin: io.stdin, tempDir: async () => (await io.store()).makeTempDir('context-') };
    await withBuildContext({ context: args.context, ...(args.file !== undefined ? { file: args.file } : {}) }, stdinContext, (ctx) => runBuild({ ...args, ...ctx }, io));
    return 0;
  },
};

interface BuildArgs {
  context: string;
  file?: string;
  tag: string[];
  buildArg: string[];
  label: string[];
  target?: string;
  output: string[];
  /** `--compression` and `--compression-level`: defaults for the outputs. */
  compression?: string;
  compressionLevel?: string;
  iidfile?: string;
  progress: string;
  quiet: boolean;
  reproducibleCheck?: boolean;
  push?: boolean;
  pull?: boolean;
  noCache?: boolean;
  /** `--allow`: BuildKit's entitlements (network.host). */
  allow?: string[];
  platform?: string;
  metadataFile?: string;
  /** `--load`: the image goes to `docker load`. */
  load?: boolean;
  registryMirror: string[];
  insecureRegistry: string[];
  /** `--memory`, `--cpu-shares`, ...: the budget of each RUN step. */
  limits?: LimitFlags;
  /** `--isolation` (or $TSBUILD_ISOLATION). */
  isolation?: Isolation;
}

/** `K=V` flags (or `K` meaning: take the value from the environment). */
function parseKeyValues(flag: string, values: string[], env?: NodeJS.ProcessEnv): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const key = eq === -1 ? v : v.slice(0, eq);
    if (key === '' || /\s/.test(key)) throw new UsageError(`${flag} ${JSON.stringify(v)}: expected KEY=VALUE`);
    if (eq === -1) {
      if (env === undefined) throw new UsageError(`${flag} ${JSON.stringify(v)}: expected KEY=VALUE`);
      const fromEnv = env[key];
      if (fromEnv !== undefined) out.set(key, fromEnv);
      continue;
    }
    out.set(key, v.slice(eq + 1));
  }
  return out;
}

function sourceDateEpoch(env: NodeJS.ProcessEnv, buildArgs: Map<string, string>): number | undefined {
  const raw = buildArgs.get('SOURCE_DATE_EPOCH') ?? env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`SOURCE_DATE_EPOCH ${JSON.stringify(raw)}: expected a number of seconds`);
  return Number(raw);
}

/**
 * What BuildKit writes with --metadata-file: the build's manifest (the pushed one, or
 * the one the first export wrote and the store's tags now point at; see export/plan.ts).
 */
function metadata(result: BuildResult, exported: ExportResult, names: string[]): Record<string, unknown> {
  const desc = exported.pushed ?? exported.image.manifestDescriptor;
  return {
    'containerimage.config.digest': exported.image.id,
    'containerimage.digest': desc.digest,
    'containerimage.descriptor': { mediaType: desc.mediaType, digest: desc.digest, size: desc.size },
    ...(names.length > 0 || result.tags.length > 0 ? { 'image.name': [...new Set([...result.tags, ...names])].join(',') } : {}),
  };
}

/**
 * Build twice in fresh stores and compare; when both give the same image, it is copied
 * (verified) into the main store and tagged there.
 */
async function checkedBuild(options: BuildOptions, sdeSet: boolean, say: (m: string) => void): Promise<BuildResult> {
  const main = options.store;
  const first = await cloneStore(main, 'repro-a-');
  const second = await cloneStore(main, 'repro-b-');
  try {
    const a = await build({ ...options, store: first, tags: [] });
    const b = await build({ ...options, store: second, tags: [] });
    const why = await explainDifference({ store: first, image: a.image }, { store: second, image: b.image });
    if (why !== undefined) throw new NotReproducibleError(why, sdeSet);
    say(`reproducible: both builds gave ${a.image.manifestDescriptor.digest}`);
    const stored = await copyImage(first, main, a.image);
    const tags = (options.tags ?? []).map((t) => familiarString(parseTag(t)));
    for (const t of tags) await main.tag(stored, t);
    return { image: stored, tags, warnings: [...a.warnings] };
  } finally {
    await discardStore(first);
    await discardStore(second);
  }
}

async function runBuild(args: BuildArgs, io: Io): Promise<void> {
  const progress = args.quiet ? 'quiet' : (args.progress as ProgressMode);
  if (!['auto', 'plain', 'tty', 'json', 'quiet'].includes(progress)) {
    throw new UsageError(`--progress ${JSON.stringify(args.progress)}: want auto, plain, tty or json`);
  }
  const buildArgs = parseKeyValues('--build-arg', args.buildArg, io.env);
  const labels = parseKeyValues('--label', args.label);
  const allow = parseEntitlements(args.allow ?? []);
  const compressionDefaults = parseCompressionFlags(args.compression, args.compressionLevel);
  const parsedOutputs = args.output.map((spec) => ({ spec, out: withCompressionDefaults(parseOutput(spec), compressionDefaults, spec) }));
  if (args.load) parsedOutputs.push({ spec: '--load', out: withCompressionDefaults(loadOutput(), compressionDefaults, '--load') });
  const registryOutputs = parsedOutputs.filter((o) => o.out.type === 'registry').map((o) => o.out);
  const outputs: OutputSpec[] = parsedOutputs.filter((o) => o.out.type !== 'registry').map((o) => o.out);
  const sde = sourceDateEpoch(io.env, buildArgs);
  const limits = parseLimits(args.limits ?? {});
  const renderer = createRenderer(progress, io.stderr as never);
  let store: Store | undefined;
  let registry: Registry | undefined;
  try {
    store = await Store.open(defaultStoreRoot(io.env));
    registry = await openRegistry(io, args, (e) => {
      const shown = registryWarning(e);
      if (shown) renderer.event(shown);
    });
    const options: BuildOptions = {
      store,
      registry: registry.client,
      ...(args.pull ? { pull: true } : {}),
      ...(args.noCache ? { noCache: true } : {}),
      allow,
      ...(args.platform !== undefined ? { platform: parsePlatform(args.platform, { hostOnly: true }) } : {}),
      contextDir: resolve(args.context),
      ...(args.file !== undefined ? { dockerfile: resolve(args.file) } : {}),
      tags: args.tag,
      buildArgs,
      labels,
      ...(args.target !== undefined ? { target: args.target } : {}),
      ...(sde !== undefined ? { sourceDateEpoch: sde } : {}),
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
      ...(args.isolation !== undefined ? { isolation: args.isolation } : {}),
      signal: io.signal,
      onEvent: (e) => renderer.event(e),
    };
    const result = args.reproducibleCheck ? await checkedBuild(options, sde !== undefined, (m) => renderer.event({ type: 'export', message: m })) : await build(options);
    const pushes = pushPlans({ push: args.push ?? false, registryOutputs, tags: result.tags, compression: compressionDefaults });
    const exported = await exportBuild(store, result, { outputs, pushes }, {
      ...(sde !== undefined ? { mtime: sde } : {}),
      env: io.env,
      signal: io.signal,
      onWarning: (message) => renderer.event({ type: 'warning', message }),
      onMessage: (message) => renderer.event({ type: 'export', message }),
      onExport: (message) => renderer.event({ type: 'export', message }),
      registry: registry.client,
    });
    for (const t of result.tags) renderer.event({ type: 'export', message: `naming to ${t} done` });
    const pushed = exported.pushed;
    const destinations = pushes.flatMap((p) => p.destinations);
    const id = pushed?.digest ?? result.image.id;
    if (args.iidfile) await writeFile(args.iidfile, id);
    if (args.metadataFile) await writeFile(args.metadataFile, `${JSON.stringify(metadata(result, exported, destinations), null, 2)}\n`);
    if (args.quiet) io.stdout.write(`${id}\n`);
  } finally {
    registry?.close();
    await store?.close();
    renderer.close();
  }
}
