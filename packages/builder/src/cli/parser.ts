/**
 * The yargs instance of the command line, with `--help` wrapped at the terminal's width.
 *
 * yargs' ESM build lays help out with a fallback wrapper that cuts every line at the
 * column width, in the middle of words ("also i" / "n the config file"); its CommonJS
 * build uses wrap-ansi, which breaks lines between words. Both builds are the same
 * yargs otherwise, so the CLI takes the CommonJS one.
 */
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';

const require = createRequire(import.meta.url);
const yargsFactory = require('yargs/yargs') as (args: string[]) => Argv;

/** Help width when stdout is not a terminal and COLUMNS is not set. */
export const DEFAULT_HELP_WIDTH = 80;

/** The terminal's width; else COLUMNS (as shells export it); else 80. */
export function helpWidth(stdout: { isTTY?: boolean; columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): number {
  if (stdout.isTTY && stdout.columns !== undefined && stdout.columns > 0) return stdout.columns;
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : DEFAULT_HELP_WIDTH;
}

export function cliParser(argv: string[]): Argv {
  return yargsFactory(argv).wrap(helpWidth());
}
