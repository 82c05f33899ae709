import type { Writable } from 'node:stream';
import { JsonRenderer } from './json.js';
import { PlainRenderer } from './plain.js';
import { QuietRenderer } from './quiet.js';
import type { ProgressMode, Renderer } from './renderer.js';
import { TtyRenderer } from './tty.js';

export type { ProgressMode, Renderer } from './renderer.js';

export function createRenderer(mode: ProgressMode, out: Writable & { isTTY?: boolean }): Renderer {
  switch (mode) {
    case 'quiet':
      return new QuietRenderer(out);
    case 'json':
      return new JsonRenderer(out);
    case 'plain':
      return new PlainRenderer(out);
    case 'tty':
      return new TtyRenderer(out);
    case 'auto':
      return out.isTTY ? new TtyRenderer(out) : new PlainRenderer(out);
  }
}
export { pullRenderer, registryWarning } from './registry.js';
