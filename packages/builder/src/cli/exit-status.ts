/**
 * What the entry makes of an error a command threw: one line for stderr and an exit
 * status (1 a failed build or command, 2 bad usage), decided by the error's class.
 */
import { isTsbuildError } from '@tsbuild/errors';
import { BuildError, UsageError } from '../errors.js';

export function exitStatus(err: unknown): number {
  if (err instanceof UsageError || (err instanceof BuildError && err.code === 'TSBUILD_USAGE')) return 2;
  return 1;
}

/** The message after `ERROR: `: typed errors by their message (a Dockerfile's with its line), others with their stack. */
export function describeError(err: unknown): string {
  if (err instanceof BuildError) return err.toString();
  // The layer store's and the executor's (a registry down, a kernel without what the sandbox needs, a cancelled run).
  if (isTsbuildError(err)) return err.message;
  if (err instanceof Error && err.name === 'AbortError') return 'build cancelled';
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}
