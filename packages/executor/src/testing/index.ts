/**
 * Test utilities for other packages' tests (`@tsbuild/executor/testing`); never imported
 * by production code. RecordingExecutor runs no process: it records each request and
 * answers from a script, so a builder's tests need no root.
 */
export { RecordingExecutor, type Script, type ScriptedRun } from './recording.js';
export { executorContract, type ContractFactory, type Outcome } from './contract.js';
