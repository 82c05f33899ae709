import { ExecutorError } from '../errors.js';

/** A sandbox setup step failed; the run ends with exit code 125 and this message. */
export class SetupError extends ExecutorError {
  constructor(message: string, cause?: unknown) {
    super('TSBUILD_SANDBOX_SETUP', cause instanceof Error ? `${message}: ${cause.message}` : message, { cause });
    this.name = 'SetupError';
  }
}

/** The kernel lacks something the sandbox needs; `run()` rejects instead of resolving with 125. */
export class UnsupportedError extends ExecutorError {
  constructor(message: string, cause?: unknown) {
    super('TSBUILD_SANDBOX_UNSUPPORTED', cause instanceof Error ? `${message}: ${cause.message}` : message, { cause });
    this.name = 'UnsupportedError';
  }
}
