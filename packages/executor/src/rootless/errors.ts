/**
 * Why tsbuild cannot run rootless here: each names what is missing and how to get it.
 * `code` is stable; `missing` says which kind (callers and tests branch on either).
 */
import { ExecutorError } from '../errors.js';

export type RootlessMissing = 'user-namespaces' | 'newuidmap' | 'subordinate-ids' | 'id-mapping';

export class RootlessError extends ExecutorError {
  constructor(readonly missing: RootlessMissing, message: string, options?: ErrorOptions) {
    super('TSBUILD_ROOTLESS_UNAVAILABLE', message, options);
    this.name = 'RootlessError';
  }
}
