/** @tsbuild/executor: runs processes in fresh namespaces. Knows directories and processes, never images. */
export * from './errors.js';
export * as libc from './libc.js';
