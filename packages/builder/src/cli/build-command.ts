/** `tsbuild [build]`: flags -> build() -> exports, iidfile, exit status. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Store, defaultStoreRoot, familiarString, parseTag } from '@tsbuild/layerstore';
import { build, type BuildOptions, type BuildResult } from '../build/build.js';
import { explainDifference, NotReproducibleError, removeStore, seededStore } from '../build/reproducible.js';
import { UsageError } from '../errors.js';
import { describeOutput, exportImage, parseCompressionFlags, parseOutput, withCompressionDefaults, type OutputSpec } from '../export/outputs.js';
import { createRenderer, type ProgressMode } from '../progress/index.js';

export interface BuildArgs {
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
}

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
}

/** `K=V` flags (or `K` meaning: take the value from the environment). */
export function parseKeyValues(flag: string, values: string[], env?: NodeJS.ProcessEnv): Map<string, string> {
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
 * Build twice in fresh stores and compare; when both give the same image, it is copied
 * (verified) into the main store and tagged there.
 */
async function checkedBuild(options: BuildOptions, sdeSet: boolean, say: (m: string) => void): Promise<BuildResult> {
  const main = options.store;
  const first = await seededStore(main, 'repro-a-');
  const second = await seededStore(main, 'repro-b-');
  try {
    const a = await build({ ...options, store: first, tags: [] });
    const b = await build({ ...options, store: second, tags: [] });
    const why = await explainDifference({ store: first, image: a.image }, { store: second, image: b.image });
    if (why !== undefined) throw new NotReproducibleError(why, sdeSet);
    say(`reproducible: both builds gave ${a.image.manifestDescriptor.digest}`);
    const image = a.image;
    for (const d of [image.manifest.config, ...image.manifest.layers, image.manifestDescriptor]) {
      await main.blobs.write(await first.blobs.open(d), { digest: d.digest, size: d.size });
    }
    const stored = await main.loadImage(image.manifestDescriptor);
    const tags = (options.tags ?? []).map((t) => familiarString(parseTag(t)));
    for (const t of tags) await main.tag(stored, t);
    return { image: stored, tags, warnings: [...a.warnings] };
  } finally {
    await removeStore(first);
    await removeStore(second);
  }
}

export async function runBuild(args: BuildArgs, io: Io): Promise<void> {
  const progress = args.quiet ? 'quiet' : (args.progress as ProgressMode);
  if (!['auto', 'plain', 'tty', 'json', 'quiet'].includes(progress)) {
    throw new UsageError(`--progress ${JSON.stringify(args.progress)}: want auto, plain, tty or json`);
  }
  const buildArgs = parseKeyValues('--build-arg', args.buildArg, io.env);
  const labels = parseKeyValues('--label', args.label);
  const compressionDefaults = parseCompressionFlags(args.compression, args.compressionLevel);
  const outputs: OutputSpec[] = args.output.map((spec) => withCompressionDefaults(parseOutput(spec), compressionDefaults, spec));
  const sde = sourceDateEpoch(io.env, buildArgs);
  const renderer = createRenderer(progress, io.stderr as never);
  let store: Store | undefined;
  try {
    store = await Store.open(defaultStoreRoot(io.env));
    const options: BuildOptions = {
      store,
      contextDir: resolve(args.context),
      ...(args.file !== undefined ? { dockerfile: resolve(args.file) } : {}),
      tags: args.tag,
      buildArgs,
      labels,
      ...(args.target !== undefined ? { target: args.target } : {}),
      ...(sde !== undefined ? { sourceDateEpoch: sde } : {}),
      signal: io.signal,
      onEvent: (e) => renderer.event(e),
    };
    const result = args.reproducibleCheck ? await checkedBuild(options, sde !== undefined, (m) => renderer.event({ type: 'export', message: m })) : await build(options);
    for (const out of outputs) {
      renderer.event({ type: 'export', message: describeOutput(out) });
      await exportImage(store, result.image, out, {
        names: result.tags,
        ...(sde !== undefined ? { mtime: sde } : {}),
        onWarning: (message) => renderer.event({ type: 'warning', message }),
      });
    }
    for (const t of result.tags) renderer.event({ type: 'export', message: `naming to ${t} done` });
    if (args.iidfile) await writeFile(args.iidfile, result.image.id);
    if (args.quiet) io.stdout.write(`${result.image.id}\n`);
  } finally {
    await store?.close();
    renderer.close();
  }
}
