/**
 * The solver's entry, and all that callers (the CLI, the package's users, progress
 * renderers) may use of it: `build()`, its options and result, and the events it emits.
 * The scheduler, its state and the cache stay behind this file.
 */
export { build, type BuildOptions, type BuildResult } from './build.js';
export type { BuildEvent, EventSink, StepInfo } from './events.js';
export type { RunNetwork } from '../steps/context.js';
export type { Entitlement } from '../plan/entitlements.js';
export { explainDifference, NotReproducibleError } from './reproducible.js';
export { limitError } from '../steps/limits.js';
