/** @tsbuild/executor: runs processes in fresh namespaces, or chrooted where none can be made (isolation.ts). Knows directories and processes, never images. */
export * from './errors.js';
export type { Executor, Limits, MountSpec, NetworkMode, PortSpec, ProcessSpec, RootfsSpec, RunRequest, RunResult, UserSpec } from './types.js';
export { createExecutor, type ExecutorOptions } from './executor.js';
export { ISOLATIONS, IsolationUnavailableError, probeIsolation, resolveIsolation, type Check, type Isolation, type IsolationMode, type IsolationReport, type MachineReport } from './isolation.js';
export { sandboxLayout, type Layout } from './network/layout.js';
export * from './user/index.js';
export * as libc from './libc.js';
