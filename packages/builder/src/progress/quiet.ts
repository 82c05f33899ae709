/**
 * `-q` / `--progress quiet`: nothing while the build goes well. Each running step's output
 * is kept (its last MAX_KEPT bytes) and dropped when the step succeeds; when a step fails,
 * its name, its output and its error are printed, as `docker build -q` does, so a failed
 * quiet build still says why.
 */
import type { Writable } from 'node:stream';
import type { BuildEvent } from '../solve/index.js';
import type { Renderer } from './renderer.js';

/** Output kept per running step; older output is cut (and the cut is said). */
export const MAX_KEPT = 256 * 1024;

interface Kept {
  chunks: Buffer[];
  bytes: number;
  cut: boolean;
}

export class QuietRenderer implements Renderer {
  private readonly kept = new Map<number, Kept>();

  constructor(private readonly out: Writable) {}

  event(e: BuildEvent): void {
    switch (e.type) {
      case 'step-log':
        this.keep(e.step.id, e.data);
        break;
      case 'step-done':
        this.kept.delete(e.step.id);
        break;
      case 'step-error': {
        const k = this.kept.get(e.step.id);
        this.kept.delete(e.step.id);
        const lines = k ? Buffer.concat(k.chunks).toString('utf8').split('\n') : [];
        if (lines.at(-1) === '') lines.pop();
        const prefix = `#${e.step.id} `;
        let text = `${prefix}${e.step.name}\n`;
        if (k?.cut) text += `${prefix}[output before the last ${MAX_KEPT} bytes cut]\n`;
        for (const line of lines) text += `${prefix}${line}\n`;
        text += `${prefix}ERROR: ${e.message}\n`;
        this.out.write(text);
        break;
      }
      default:
        break;
    }
  }

  private keep(id: number, data: Buffer): void {
    let k = this.kept.get(id);
    if (!k) this.kept.set(id, (k = { chunks: [], bytes: 0, cut: false }));
    k.chunks.push(data);
    k.bytes += data.length;
    while (k.bytes > MAX_KEPT && k.chunks.length > 0) {
      const first = k.chunks[0]!;
      const excess = k.bytes - MAX_KEPT;
      if (first.length <= excess) {
        k.chunks.shift();
        k.bytes -= first.length;
      } else {
        // Keep whole lines where possible: cut at the first newline after the excess.
        const nl = first.indexOf(0x0a, excess);
        const from = nl === -1 ? excess : nl + 1;
        k.chunks[0] = first.subarray(from);
        k.bytes -= from;
      }
      k.cut = true;
    }
  }

  close(): void {
    this.kept.clear();
  }
}
