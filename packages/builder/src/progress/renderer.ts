import type { BuildEvent } from '../solve/index.js';

/** Draws build events. Renderers own their output stream; the builder never prints. */
export interface Renderer {
  event(e: BuildEvent): void;
  /** Flush and stop (after success or failure). */
  close(): void;
}

export type ProgressMode = 'auto' | 'plain' | 'tty' | 'json' | 'quiet';
