/** `tsbuild [build]`: flags -> build() -> exports, iidfile, exit status. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Store, defaultStoreRoot } from '@tsbuild/layerstore';
import { build } from '../build/build.js';
import { UsageError } from '../errors.js';
import { describeOutput, exportImage, parseOutput, type OutputSpec } from '../export/outputs.js';
import { createRenderer, type ProgressMode } from '../progress/index.js';

export interface BuildArgs {
  context: string;
  file?: string;
  tag: string[];
  buildArg: string[];
  label: string[];
  target?: string;
  output: string[];
  iidfile?: string;
  progress: string;
  quiet: boolean;
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

export async function runBuild(args: BuildArgs, io: Io): Promise<void> {
  const progress = args.quiet ? 'quiet' : (args.progress as ProgressMode);
  if (!['auto', 'plain', 'tty', 'json', 'quiet'].includes(progress)) {
    throw new UsageError(`--progress ${JSON.stringify(args.progress)}: want auto, plain, tty or json`);
  }
  const buildArgs = parseKeyValues('--build-arg', args.buildArg, io.env);
  const labels = parseKeyValues('--label', args.label);
  const outputs: OutputSpec[] = args.output.map(parseOutput);
  const sde = sourceDateEpoch(io.env, buildArgs);
  const renderer = createRenderer(progress, io.stderr as never);
  try {
    const store = await Store.open(defaultStoreRoot(io.env));
    const result = await build({
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
    });
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
    renderer.close();
  }
}
