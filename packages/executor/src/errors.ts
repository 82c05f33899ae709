/** Typed errors of the executor. */
export type ExecutorErrorCode = 'TSBUILD_SYSCALL' | 'TSBUILD_SANDBOX_SETUP' | 'TSBUILD_SANDBOX_UNSUPPORTED' | 'TSBUILD_CANCELLED';

export class ExecutorError extends Error {
  readonly code: ExecutorErrorCode;
  constructor(code: ExecutorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExecutorError';
    this.code = code;
  }
}

/** A failed system call: names the call, its argument of interest, and errno. */
export class SyscallError extends ExecutorError {
  constructor(readonly call: string, readonly errno: string, readonly errnum: number, detail?: string) {
    super('TSBUILD_SYSCALL', `${call}${detail ? `(${detail})` : ''}: ${errno}`);
    this.name = 'SyscallError';
  }
}
