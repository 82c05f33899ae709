/** Typed errors of the executor: TsbuildErrors (@tsbuild/errors) with the executor's codes. */
import { TsbuildError } from '@tsbuild/errors';

export type ExecutorErrorCode =
  | 'TSBUILD_SYSCALL'
  | 'TSBUILD_SANDBOX_SETUP'
  | 'TSBUILD_SANDBOX_UNSUPPORTED'
  | 'TSBUILD_CGROUP_UNAVAILABLE'
  | 'TSBUILD_CANCELLED'
  // rootless/: tsbuild cannot re-execute itself in a user namespace here
  | 'TSBUILD_ROOTLESS_UNAVAILABLE'
  // user/: a USER or --chown spec the image's /etc/passwd and /etc/group cannot resolve
  | 'TSBUILD_USER_UNKNOWN'
  | 'TSBUILD_GROUP_UNKNOWN'
  | 'TSBUILD_USER_ID_RANGE'
  | 'TSBUILD_USER_FILE_MISSING';

export class ExecutorError extends TsbuildError<ExecutorErrorCode> {
  constructor(code: ExecutorErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'ExecutorError';
  }
}

/** A failed system call: names the call, its argument of interest, and errno. */
export class SyscallError extends ExecutorError {
  constructor(readonly call: string, readonly errno: string, readonly errnum: number, detail?: string) {
    super('TSBUILD_SYSCALL', `${call}${detail ? `(${detail})` : ''}: ${errno}`);
    this.name = 'SyscallError';
  }
}

/**
 * A limit was asked for that no cgroup here can apply: none is mounted, none is writable,
 * the controller is missing or not delegated. `limit` is the key of `Limits` it concerns,
 * so a caller can name its own flag; the message says what is missing and how to get it.
 */
export class CgroupUnavailableError extends ExecutorError {
  constructor(readonly limit: string, message: string, options?: ErrorOptions) {
    super('TSBUILD_CGROUP_UNAVAILABLE', message, options);
    this.name = 'CgroupUnavailableError';
  }
}
