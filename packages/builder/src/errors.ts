/**
 * Typed errors of the builder. Every error carries a stable `code`; errors about a
 * Dockerfile carry its file and line range, and print as `Dockerfile:7: message`.
 * Wrap once, at the instruction boundary. BuildError is a TsbuildError (@tsbuild/errors),
 * like the layer store's and the executor's errors.
 */
import { TsbuildError } from '@tsbuild/errors';

export type BuildErrorCode =
  | 'TSBUILD_DOCKERFILE_EMPTY'
  | 'TSBUILD_DOCKERFILE_SYNTAX'
  | 'TSBUILD_UNKNOWN_INSTRUCTION'
  | 'TSBUILD_UNKNOWN_FLAG'
  | 'TSBUILD_INVALID_ARGUMENT'
  | 'TSBUILD_NO_FROM'
  | 'TSBUILD_UNKNOWN_STAGE'
  | 'TSBUILD_EXPANSION'
  | 'TSBUILD_CONTEXT_NOT_FOUND'
  | 'TSBUILD_CONTEXT_ESCAPE'
  | 'TSBUILD_CONTEXT_INVALID'
  | 'TSBUILD_SOURCE_NOT_FOUND'
  | 'TSBUILD_DOCKERIGNORE'
  | 'TSBUILD_UNSUPPORTED'
  | 'TSBUILD_STEP_FAILED'
  | 'TSBUILD_NOT_ALLOWED'
  | 'TSBUILD_USAGE'
  | 'TSBUILD_EXPORT_FAILED'
  | 'TSBUILD_CANCELLED'
  | 'TSBUILD_STORE_NOT_OWNED';

export interface SourceLocation {
  file: string;
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
}

export class BuildError extends TsbuildError<BuildErrorCode> {
  location: SourceLocation | undefined;

  constructor(code: BuildErrorCode, message: string, options?: ErrorOptions & { location?: SourceLocation }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BuildError';
    this.location = options?.location;
  }

  /** `Dockerfile:7: message` when located, else the message. */
  override toString(): string {
    return this.location ? `${this.location.file}:${this.location.startLine}: ${this.message}` : this.message;
  }

  /** Attach a location unless one is already set (the innermost location wins). */
  at(location: SourceLocation): this {
    this.location ??= location;
    return this;
  }
}

/** Bad command-line usage: the CLI exits 2. */
export class UsageError extends BuildError {
  constructor(message: string) {
    super('TSBUILD_USAGE', message);
    this.name = 'UsageError';
  }
}
