/**
 * libc through koffi, for the sandbox: one typed function per call, errno turned into a
 * SyscallError naming the call. The binding and the raw syscall numbers are in
 * libc/binding.ts; the calls are grouped by what they act on (mounts, credentials, files,
 * processes). Import from here.
 */
export { errnoName, SYS } from './libc/binding.js';
export * from './libc/mounts.js';
export * from './libc/credentials.js';
export * from './libc/files.js';
export * from './libc/processes.js';
export * from './libc/xattrs.js';
