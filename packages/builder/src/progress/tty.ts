/**
 * `--progress tty`: a live view that redraws the running steps in place (elapsed time
 * and the last lines of their output) and leaves one line per finished step.
 */
import type { Writable } from 'node:stream';
import type { BuildEvent, StepInfo } from '../solve/index.js';
import type { Renderer } from './renderer.js';

interface Running {
  step: StepInfo;
  started: number;
  tail: string[];
}

const TAIL = 6;

export class TtyRenderer implements Renderer {
  private readonly running = new Map<number, Running>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: Writable & { columns?: number }) {
    this.timer = setInterval(() => this.redraw(), 100);
    this.timer.unref();
  }

  event(e: BuildEvent): void {
    switch (e.type) {
      case 'step-start':
        this.running.set(e.step.id, { step: e.step, started: performance.now(), tail: [] });
        break;
      case 'step-log': {
        const r = this.running.get(e.step.id);
        if (r) {
          r.tail.push(...e.data.toString('utf8').split('\n').filter((l) => l !== ''));
          r.tail.splice(0, Math.max(0, r.tail.length - TAIL));
        }
        break;
      }
      case 'step-done':
      case 'step-error': {
        this.running.delete(e.step.id);
        const status = e.type === 'step-done' ? (e.cached ? 'CACHED' : `${(e.durationMs / 1000).toFixed(1)}s`) : `ERROR: ${e.message}`;
        this.print(`${e.type === 'step-done' ? ' => ' : ' !! '}${e.step.name}  ${status}`);
        break;
      }
      case 'warning':
        this.print(` WARNING: ${e.location ? `${e.location.file}:${e.location.startLine}: ` : ''}${e.message}`);
        break;
      case 'notice':
      case 'export':
        this.print(` => ${e.message}`);
        break;
      case 'build-done':
        this.print(` => writing image ${e.imageId} (${(e.durationMs / 1000).toFixed(1)}s)`);
        break;
      default:
        break;
    }
    this.redraw();
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}F\x1b[J`);
    this.drawn = 0;
  }

  private print(line: string): void {
    this.clear();
    this.out.write(`${this.fit(line)}\n`);
  }

  private redraw(): void {
    this.clear();
    const lines: string[] = [];
    for (const r of this.running.values()) {
      lines.push(` => ${r.step.name}  ${((performance.now() - r.started) / 1000).toFixed(1)}s`);
      for (const t of r.tail) lines.push(`\x1b[2m    ${t}\x1b[0m`);
    }
    for (const l of lines) this.out.write(`${this.fit(l)}\n`);
    this.drawn = lines.length;
  }

  private fit(line: string): string {
    const width = this.out.columns ?? 120;
    return line.length > width ? `${line.slice(0, width - 1)}…` : line;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }
}
