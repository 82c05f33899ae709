#!/usr/bin/env node
/**
 * The tsbuild command line. The only place that prints errors and exits:
 * 0 success, 1 build error, 2 bad usage.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { Store, defaultStoreRoot, LayerstoreError } from '@tsbuild/layerstore';
import { BuildError, UsageError } from './errors.js';
import { runBuild, type BuildArgs, type Io } from './cli/build-command.js';
import { imageHistory, inspectImages, listImages } from './cli/inspect.js';
import { SYNTAX_LEVEL, VERSION } from './version.js';

/** A repeatable flag: each occurrence takes exactly one value (docker's semantics). */
function list(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function exitCode(err: unknown): number {
  if (err instanceof UsageError || (err instanceof BuildError && err.code === 'TSBUILD_USAGE')) return 2;
  return 1;
}

function describe(err: unknown): string {
  if (err instanceof BuildError) return err.toString();
  if (err instanceof LayerstoreError) return err.message;
  if (err instanceof Error && err.name === 'AbortError') return 'build cancelled';
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}

async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new BuildError('TSBUILD_CANCELLED', `cancelled by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const io: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal };
  const store = () => Store.open(defaultStoreRoot(io.env));
  let failure: unknown;
  let usage: string | undefined;

  const parser = yargs(argv)
    .scriptName('tsbuild')
    .usage('$0 [build] [options] CONTEXT')
    .version(false)
    .option('version', { type: 'boolean', describe: 'Print the version and the Dockerfile syntax level' })
    .strict()
    .parserConfiguration({ 'boolean-negation': false, 'camel-case-expansion': false })
    .exitProcess(false)
    .fail((msg, err) => {
      throw new UsageError(msg ?? err?.message ?? 'invalid usage');
    })
    .command(
      ['build [context]', '$0 [context]'],
      'Build an image from a Dockerfile',
      (y) =>
        y
          .positional('context', { type: 'string', describe: 'Build context directory' })
          .option('file', { alias: 'f', type: 'string', describe: 'Dockerfile (default: CONTEXT/Dockerfile)' })
          .option('tag', { alias: 't', type: 'string', default: [] as string[], describe: 'Name and tag the image (name:tag)' })
          .option('build-arg', { type: 'string', default: [] as string[], describe: 'Set a build-time variable (KEY=VALUE)' })
          .option('label', { type: 'string', default: [] as string[], describe: 'Set a label on the image (KEY=VALUE)' })
          .option('target', { type: 'string', describe: 'Build this stage' })
          .option('output', { alias: 'o', type: 'string', default: [] as string[], describe: 'Export: type=oci|docker|local,dest=PATH[,tar=false][,compression=gzip|zstd|uncompressed]' })
          .option('iidfile', { type: 'string', describe: 'Write the image ID to this file' })
          .option('progress', { type: 'string', default: 'auto', describe: 'auto, plain, tty or json' })
          .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress; print the image ID' }),
      async (a) => {
        if (a.version) return;
        if (a.context === undefined) {
          usage = 'a build context directory is required, e.g. `tsbuild -t app .`';
          return;
        }
        const args: BuildArgs = {
          context: a.context,
          tag: list(a.tag),
          buildArg: list(a['build-arg']),
          label: list(a.label),
          output: list(a.output),
          progress: a.progress as string,
          quiet: a.quiet as boolean,
          ...(a.file !== undefined ? { file: a.file } : {}),
          ...(a.target !== undefined ? { target: a.target } : {}),
          ...(a.iidfile !== undefined ? { iidfile: a.iidfile } : {}),
        };
        await runBuild(args, io).catch((err) => (failure = err));
      },
    )
    .command(
      'images',
      'List images in the store',
      (y) => y.option('quiet', { alias: 'q', type: 'boolean', default: false }).option('no-trunc', { type: 'boolean', default: false }),
      async (a) => {
        await store()
          .then((s) => listImages(s, { quiet: a.quiet, noTrunc: a['no-trunc'] }))
          .then((text) => io.stdout.write(text))
          .catch((err) => (failure = err));
      },
    )
    .command(
      'inspect <image..>',
      'Show images as JSON (the shape of docker image inspect)',
      (y) => y.positional('image', { type: 'string', array: true, demandOption: true }),
      async (a) => {
        await store()
          .then((s) => inspectImages(s, a.image as string[]))
          .then((list) => io.stdout.write(`${JSON.stringify(list, null, 4)}\n`))
          .catch((err) => (failure = err));
      },
    )
    .command(
      'history <image>',
      'Show the history of an image',
      (y) =>
        y
          .positional('image', { type: 'string', demandOption: true })
          .option('no-trunc', { type: 'boolean', default: false })
          .option('human', { alias: 'H', type: 'boolean', default: true, describe: 'Sizes and dates in human-readable form' }),
      async (a) => {
        await store()
          .then((s) => imageHistory(s, a.image as string, { noTrunc: a['no-trunc'], human: a.human }))
          .then((text) => io.stdout.write(text))
          .catch((err) => (failure = err));
      },
    );

  let parsed: { version?: unknown };
  try {
    parsed = await parser.parseAsync();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    usage = err.message;
    parsed = {};
  }
  if (parsed.version && usage === undefined) {
    io.stdout.write(`tsbuild ${VERSION}\nDockerfile syntax: ${SYNTAX_LEVEL}\n`);
    return 0;
  }
  if (usage !== undefined) {
    io.stderr.write(`tsbuild: ${usage}\nRun 'tsbuild --help' for usage.\n`);
    return 2;
  }
  if (failure !== undefined) {
    io.stderr.write(`ERROR: ${describe(failure)}\n`);
    return exitCode(failure);
  }
  return 0;
}

main(hideBin(process.argv)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`tsbuild: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
