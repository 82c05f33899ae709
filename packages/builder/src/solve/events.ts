/**
 * Build progress as events keyed by step. The builder emits;
 * renderers in `progress/` draw them. Nothing in the builder prints.
 */
export interface StepInfo {
  /** Unique within the build, in order of declaration: `#1`, `#2`... */
  id: number;
  /** `[build 2/5] COPY . /app`, like BuildKit's vertex names. */
  name: string;
}

export type BuildEvent =
  | { type: 'build-start'; dockerfile: string; context: string; stages: number }
  | { type: 'step-start'; step: StepInfo }
  | { type: 'step-log'; step: StepInfo; stream: 'stdout' | 'stderr'; data: Buffer }
  | { type: 'step-progress'; step: StepInfo; message: string }
  | { type: 'step-done'; step: StepInfo; durationMs: number; cached: boolean }
  | { type: 'step-error'; step: StepInfo; durationMs: number; message: string }
  | { type: 'warning'; message: string; location?: { file: string; startLine: number } }
  /** Said once: how RUN steps are isolated when it is not the full sandbox, and what that changes. */
  | { type: 'notice'; message: string }
  | { type: 'export'; message: string }
  | { type: 'build-done'; imageId: string; durationMs: number };

export type EventSink = (event: BuildEvent) => void;
