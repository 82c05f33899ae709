/**
 * The one root of the typed errors every tsbuild package throws. A leaf package: it
 * imports nothing, so layerstore and executor can share it without knowing each other.
 *
 * Each package owns its codes (a union of `TSBUILD_*` strings) and its classes, all
 * extending TsbuildError; a caller branches on the class or on `code`, never on the
 * message text or on the shape of a code:
 *
 *   try { ... } catch (err) {
 *     if (isTsbuildError(err)) report(err.code, err.message);  // typed, from any package
 *     else throw err;                                           // a bug: keep its stack
 *   }
 *
 * The cause goes through the standard ErrorOptions (`new XError(code, msg, { cause })`).
 */

/** Every code is a stable `TSBUILD_` string; each package narrows it to its own union. */
export type TsbuildErrorCode = `TSBUILD_${string}`;

export class TsbuildError<Code extends TsbuildErrorCode = TsbuildErrorCode> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    // Each subclass sets its own name after this (`LayerstoreError`, `SyscallError`, ...).
    this.name = 'TsbuildError';
    this.code = code;
  }
}

/**
 * Is `err` one of tsbuild's typed errors? Plain `instanceof`: the workspace installs this
 * package once, so every package loads the same module and the same class. The one place
 * two copies of a class meet is a worker thread (each has its own module instances), and
 * no error object crosses that boundary: the sandbox and compression workers send a code
 * and a message, and the main thread makes the typed error from them.
 */
export function isTsbuildError(err: unknown): err is TsbuildError {
  return err instanceof TsbuildError;
}
