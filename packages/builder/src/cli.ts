#!/usr/bin/env node
/**
 * The tsbuild command line: registers the commands (cli/commands/, one module each, all
 * `(args, io) => exit status`), runs the one the command line names, and is the only
 * place that prints errors and exits: 0 success, 1 build error, 2 bad usage, 125 when
 * `run` fails before its container ran, 141 when stdout or stderr was closed.
 */
import { cliParser } from './cli/parser.js';
import { hideBin } from 'yargs/helpers';
import { Store, defaultStoreRoot } from '@tsbuild/layerstore';
import { BuildError, UsageError } from './errors.js';
import { SYNTAX_LEVEL, VERSION } from './version.js';
import { GLOBAL_OPTIONS, splitRunArgv } from './cli/argv.js';
import { OutputGuard } from './cli/output-guard.js';
import { CommandLineError, type Command, type CommandIo } from './cli/command.js';
import { COMMANDS } from './cli/commands/index.js';
import { describeError, exitStatus } from './cli/exit-status.js';
import { reexecRootless, rootlessWanted } from './cli/rootless.js';
import { watchRootlessParent, type ChildExit } from '@tsbuild/executor';
import { isTsbuildError } from '@tsbuild/errors';
import { constants } from 'node:os';

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
  const opened: Store[] = [];
  const io: CommandIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    signal: controller.signal,
    store: async () => {
      const s = await Store.open(defaultStoreRoot(process.env));
      opened.push(s);
      return s;
    },
    argv,
    containerArgs,
  };
  let usage: string | undefined;
  let failure: { err: unknown; command: Command } | undefined;
  let status: number | undefined;

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
    });
  for (const command of COMMANDS) {
    parser.command(command.command, command.describe, (y) => command.builder(y), async (a) => {
      try {
        status = await command.handler(a, io);
      } catch (err) {
        if (err instanceof CommandLineError) usage = err.message;
        else failure = { err, command };
      }
    });
  }

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
    io.stderr.write(`ERROR: ${describeError(failure.err)}\n`);
    return failure.command.failureStatus ?? exitStatus(failure.err);
  }
  return status ?? 0;
}

/**
 * Rootless (cli/rootless.ts): a non-root tsbuild runs itself again as root of a user
 * namespace and ends as that child ended (its status, or the same signal).
 */
async function entry(argv: string[]): Promise<number> {
  if (!rootlessWanted(argv, process.env)) {
    if (!watchRootlessParent()) return 130;
    return main(argv);
  }
  let end: ChildExit;
  try {
    end = await reexecRootless(process.env);
  } catch (err) {
    if (!isTsbuildError(err)) throw err;
    process.stderr.write(`ERROR: ${describeError(err)}\n`);
    return exitStatus(err);
  }
  if (end.signal === null) return end.code;
  process.kill(process.pid, end.signal);
  return 128 + (constants.signals[end.signal] ?? 0);
}

entry(hideBin(process.argv)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`tsbuild: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
