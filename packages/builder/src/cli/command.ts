/**
 * One command of the command line: its yargs flags and its handler, in one module under
 * `commands/`. Every handler has the same shape, `(args, io) => exit status`; the entry
 * (cli.ts) registers the commands, turns what a handler throws into a message and an
 * exit status, and closes what `io` opened.
 *
 *   export const tag: Command = {
 *     command: 'tag <source> <target>',
 *     describe: 'Give an image in the store another name',
 *     builder: (y) => y.positional('source', { type: 'string', demandOption: true }),
 *     handler: async (a, io) => { ...; return 0; },
 *   };
 */
import type { Argv, Arguments } from 'yargs';
import type { Readable } from 'node:stream';
import type { Store } from '@tsbuild/layerstore';
import { UsageError } from '../errors.js';
import type { Io } from './io.js';
import type { RegistryFlags } from './registry.js';

export interface CommandIo extends Io {
  stdin: Readable & { isTTY?: boolean };
  /** The store, opened on first use; the entry closes it. */
  store(): Promise<Store>;
  /** The command line as yargs parses it (after `run`'s container arguments were split off). */
  argv: readonly string[];
  /** For `tsbuild run`: everything after IMAGE. */
  containerArgs: readonly string[];
}

export interface Command {
  command: string | readonly string[];
  describe: string;
  builder(y: Argv): Argv;
  /** Runs the command; returns the exit status. */
  handler(args: Arguments, io: CommandIo): Promise<number>;
  /** Exit status when the handler throws, instead of 1 (2 for usage errors): `run` says 125, like docker. */
  failureStatus?: number;
}

/**
 * A command line yargs accepts but the command cannot (a missing build context): reported
 * like yargs' own usage errors, `tsbuild: MESSAGE` and a hint, exit status 2.
 */
export class CommandLineError extends UsageError {}

/** A repeatable flag: each occurrence takes exactly one value (docker's semantics). */
export function list(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** `--registry-mirror` and `--insecure-registry`, which every command takes. */
export function registryFlags(a: Arguments): RegistryFlags {
  return { registryMirror: list(a['registry-mirror']), insecureRegistry: list(a['insecure-registry']) };
}
