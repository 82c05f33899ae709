#!/usr/bin/env node
/**
 * The tsbuild command line. The only place that prints errors and exits:
 * 0 success, 1 build error, 2 bad usage.
 */
import { cliParser } from './cli/parser.js';
import { hideBin } from 'yargs/helpers';
import { Store, defaultStoreRoot, LayerstoreError } from '@tsbuild/layerstore';
import { ExecutorError } from '@tsbuild/executor';
import { BuildError, UsageError } from './errors.js';
import { runBuild, type BuildArgs, type Io } from './cli/build-command.js';
import { imageHistory, inspectImages, listImages } from './cli/inspect.js';
import { runImage } from './cli/run-command.js';
import { loadCommand, saveCommand } from './cli/load-save.js';
import { rmiCommand, tagCommand } from './cli/tag-rmi.js';
import { pruneCommand, verifyCommand } from './cli/store-commands.js';
import { loginCommand, logoutCommand, pullCommand, pushCommand } from './cli/registry.js';
import { SYNTAX_LEVEL, VERSION } from './version.js';
import { commandWord, contextArg, GLOBAL_OPTIONS, RUN_OPTIONS, splitRunArgv } from './cli/argv.js';
import { OutputGuard } from './cli/output-guard.js';
import { BUILD_LIMIT_OPTIONS, limitFlags } from './cli/limit-flags.js';
import { withBuildContext } from './context/context-arg.js';

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
  if (err instanceof ExecutorError) return err.message; // the sandbox: a kernel without what it needs, a cancelled run
  if (err instanceof Error && err.name === 'AbortError') return 'build cancelled';
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}

async function main(fullArgv: string[]): Promise<number> {
  const { argv, containerArgs } = splitRunArgv(fullArgv);
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new BuildError('TSBUILD_CANCELLED', `cancelled by ${sig}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A closed stdout or stderr (`| head -1`) cancels the command like Ctrl-C, quietly.
  const output = new OutputGuard({ stdout: process.stdout, stderr: process.stderr }, () => {
    if (!controller.signal.aborted) controller.abort(new BuildError('TSBUILD_CANCELLED', 'output closed'));
  });
  const io: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal };
  const opened: Store[] = [];
  const store = async () => {
    const s = await Store.open(defaultStoreRoot(io.env));
    opened.push(s);
    return s;
  };
  let failure: unknown;
  let usage: string | undefined;
  let containerExit: number | undefined;

  const parser = cliParser(argv)
    .scriptName('tsbuild')
    .usage('$0 [build] [options] CONTEXT')
    .version(false)
    .option('version', { type: 'boolean', describe: 'Print the version and the Dockerfile syntax level' })
    .options(GLOBAL_OPTIONS)
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
          .options(BUILD_LIMIT_OPTIONS),
      async (a) => {
        if (a.version) return;
        const context = a.context === undefined ? undefined : contextArg(a.context, argv);
        if (context === undefined || context === '') {
          usage = 'a build context is required: a directory (`tsbuild -t app .`) or - for stdin';
          return;
        }
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
          registryMirror: list(a['registry-mirror']),
          insecureRegistry: list(a['insecure-registry']),
          limits: limitFlags(a),
          ...(a.platform !== undefined ? { platform: a.platform as string } : {}),
          ...(a['metadata-file'] !== undefined ? { metadataFile: a['metadata-file'] as string } : {}),
          ...(a.file !== undefined ? { file: a.file } : {}),
          ...(a.target !== undefined ? { target: a.target } : {}),
          ...(a.iidfile !== undefined ? { iidfile: a.iidfile } : {}),
          ...(a.compression !== undefined ? { compression: list(a.compression).at(-1)! } : {}),
          ...(a['compression-level'] !== undefined ? { compressionLevel: list(a['compression-level']).at(-1)! } : {}),
        };
        const stdinContext = { stdin: process.stdin, tempDir: async () => (await store()).makeTempDir('context-') };
        await withBuildContext({ context: args.context, ...(args.file !== undefined ? { file: args.file } : {}) }, stdinContext, (ctx) => runBuild({ ...args, ...ctx }, io)).catch((err) => (failure = err));
      },
    )
    .command(
      'run <image> [args..]',
      'Run a command in a new container from an image (its writable layer is thrown away)',
      (y) =>
        y
          .positional('image', { type: 'string', demandOption: true, describe: 'store tag or ID, oci-archive:FILE[:NAME], oci:DIR[:NAME], docker-archive:FILE[:NAME]' })
          .options(RUN_OPTIONS),
      async (a) => {
        await runImage(
          {
            image: a.image as string,
            args: containerArgs,
            env: list(a.env),
            volume: list(a.volume),
            tmpfs: list(a.tmpfs),
            network: a.network as string,
            publish: list(a.publish),
            registryMirror: list(a['registry-mirror']),
            insecureRegistry: list(a['insecure-registry']),
            limits: limitFlags(a),
            ...(a.workdir !== undefined ? { workdir: a.workdir as string } : {}),
            ...(a.user !== undefined ? { user: a.user as string } : {}),
            ...(a.entrypoint !== undefined ? { entrypoint: a.entrypoint as string } : {}),
            ...(a.hostname !== undefined ? { hostname: a.hostname as string } : {}),
          },
          io,
        )
          .then((code) => (containerExit = code))
          .catch((err) => (failure = err));
      },
    )
    .command(
      'pull <ref>',
      'Pull an image from a registry into the store',
      (y) =>
        y
          .positional('ref', { type: 'string', demandOption: true })
          .option('platform', { type: 'string', describe: 'OS/ARCH[/VARIANT] from a multi-platform image (default: this machine\'s)' })
          .option('quiet', { alias: 'q', type: 'boolean', default: false }),
      async (a) => {
        await store()
          .then((s) => pullCommand(s, io, { ref: a.ref as string, quiet: a.quiet as boolean, registryMirror: list(a['registry-mirror']), insecureRegistry: list(a['insecure-registry']), ...(a.platform !== undefined ? { platform: a.platform as string } : {}) }))
          .catch((err) => (failure = err));
      },
    )
    .command(
      'push <image> [dest]',
      'Push an image from the store to a registry (to DEST, else to its own name); prints the manifest digest',
      (y) =>
        y
          .positional('image', { type: 'string', demandOption: true })
          .positional('dest', { type: 'string' })
          .option('quiet', { alias: 'q', type: 'boolean', default: false })
          .option('format', { alias: 'f', type: 'string', describe: 'Manifest format: oci or v2s2 (Docker schema 2); default: the image\'s own' }),
      async (a) => {
        await store()
          .then((s) => pushCommand(s, io, { image: a.image as string, quiet: a.quiet as boolean, registryMirror: list(a['registry-mirror']), insecureRegistry: list(a['insecure-registry']), ...(a.dest !== undefined ? { dest: a.dest as string } : {}), ...(a.format !== undefined ? { format: a.format as string } : {}) }))
          .catch((err) => (failure = err));
      },
    )
    .command(
      'login [registry]',
      'Log in to a registry (default docker.io); credentials go to ~/.docker/config.json',
      (y) =>
        y
          .positional('registry', { type: 'string' })
          .option('username', { alias: 'u', type: 'string' })
          .option('password', { alias: 'p', type: 'string' })
          .option('password-stdin', { type: 'boolean', default: false }),
      async (a) => {
        await loginCommand(
          { ...io, stdin: process.stdin },
          {
            passwordStdin: a['password-stdin'] as boolean,
            registryMirror: list(a['registry-mirror']),
            insecureRegistry: list(a['insecure-registry']),
            ...(a.registry !== undefined ? { registry: a.registry as string } : {}),
            ...(a.username !== undefined ? { username: a.username as string } : {}),
            ...(a.password !== undefined ? { password: a.password as string } : {}),
          },
        ).catch((err) => (failure = err));
      },
    )
    .command(
      'logout [registry]',
      'Remove the credentials for a registry (default docker.io)',
      (y) => y.positional('registry', { type: 'string' }),
      async (a) => {
        await logoutCommand(io, a.registry !== undefined ? { registry: a.registry as string } : {}).catch((err) => (failure = err));
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
      'load',
      'Load images from a docker-archive or OCI archive (stdin without -i; gzip, xz and zstd undone)',
      (y) => y.option('input', { alias: 'i', type: 'string', describe: 'Read from this file instead of stdin' }),
      async (a) => {
        await store()
          .then((s) => loadCommand(s, a.input !== undefined ? { input: a.input } : {}, io, process.stdin))
          .catch((err) => (failure = err));
      },
    )
    .command(
      'save <image..>',
      'Save images to a docker-archive (default), an OCI archive or an OCI layout directory',
      (y) =>
        y
          .positional('image', { type: 'string', array: true, demandOption: true, describe: 'store tag or ID, oci-archive:FILE[:NAME], oci:DIR[:NAME], docker-archive:FILE[:NAME]' })
          .option('output', { alias: 'o', type: 'string', describe: 'Write to this file (directory for oci-dir); stdout when absent or -' })
          .option('format', { type: 'string', default: 'docker', describe: 'docker, oci or oci-dir' }),
      async (a) => {
        await store()
          .then((s) => saveCommand(s, { refs: a.image as string[], format: a.format, ...(a.output !== undefined ? { output: a.output } : {}) }, io))
          .catch((err) => (failure = err));
      },
    )
    .command(
      'tag <source> <target>',
      'Give an image in the store another name',
      (y) => y.positional('source', { type: 'string', demandOption: true }).positional('target', { type: 'string', demandOption: true }),
      async (a) => {
        await store()
          .then((s) => tagCommand(s, a.source as string, a.target as string))
          .catch((err) => (failure = err));
      },
    )
    .command(
      'rmi <image..>',
      'Remove image tags (an image ID with several tags needs -f); blobs go at the next prune',
      (y) => y.positional('image', { type: 'string', array: true, demandOption: true }).option('force', { alias: 'f', type: 'boolean', default: false }),
      async (a) => {
        await store()
          .then((s) => rmiCommand(s, a.image as string[], { force: a.force }, io))
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
      'prune',
      'Remove blobs, snapshots and cache records that no tag reaches (a build running meanwhile keeps what it uses)',
      (y) => y.option('verbose', { type: 'boolean', default: false, describe: 'List what is removed' }).option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Also empty the build cache' }),
      async (a) => {
        await store()
          .then(async (s) => {
            await pruneCommand(s, io, { verbose: a.verbose as boolean, all: a.all as boolean });
          })
          .catch((err) => (failure = err));
      },
    )
    .command(
      'store <action>',
      'Store maintenance: `store verify` re-hashes every blob and checks every tag and snapshot',
      (y) => y.positional('action', { type: 'string', choices: ['verify'], demandOption: true }),
      async () => {
        await store()
          .then(async (s) => {
            const ok = await verifyCommand(s, io);
            if (!ok) failure = new BuildError('TSBUILD_STEP_FAILED', 'the store has problems (listed above)');
          })
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
  } finally {
    for (const s of opened) await s.close().catch(() => {});
  }
  await output.settle();
  if (output.closed) return output.report();
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
    return containerExit === undefined && commandWord(argv) === 'run' ? 125 : exitCode(failure);
  }
  return containerExit ?? 0;
}

main(hideBin(process.argv)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`tsbuild: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
