/** `--progress plain`: one line per event, like BuildKit's plain output; logs never clipped. */
import type { Writable } from 'node:stream';
import type { BuildEvent, StepInfo } from '../solve/index.js';
import type { Renderer } from './renderer.js';

export class PlainRenderer implements Renderer {
  private readonly started = new Map<number, number>();
  private readonly partial = new Map<number, string>();

  constructor(private readonly out: Writable) {}

  event(e: BuildEvent): void {
    switch (e.type) {
      case 'build-start':
        this.out.write(`#0 building with tsbuild: ${e.dockerfile}\n`);
        break;
      case 'step-start':
        this.started.set(e.step.id, performance.now());
        this.out.write(`#${e.step.id} ${e.step.name}\n`);
        break;
      case 'step-log':
        this.log(e.step, e.data.toString('utf8'));
        break;
      case 'step-progress':
        this.out.write(`#${e.step.id} ${e.message}\n`);
        break;
      case 'step-done':
        this.flush(e.step);
        this.out.write(`#${e.step.id} ${e.cached ? 'CACHED' : `DONE ${(e.durationMs / 1000).toFixed(1)}s`}\n`);
        break;
      case 'step-error':
        this.flush(e.step);
        this.out.write(`#${e.step.id} ERROR: ${e.message}\n`);
        break;
      case 'warning':
        this.out.write(`WARNING: ${e.location ? `${e.location.file}:${e.location.startLine}: ` : ''}${e.message}\n`);
        break;
      case 'notice':
        this.out.write(`#0 ${e.message}\n`);
        break;
      case 'export':
        this.out.write(`#E ${e.message}\n`);
        break;
      case 'build-done':
        this.out.write(`#F writing image ${e.imageId} done (${(e.durationMs / 1000).toFixed(1)}s)\n`);
        break;
    }
  }

  private log(step: StepInfo, text: string): void {
    const t0 = this.started.get(step.id) ?? performance.now();
    const stamp = ((performance.now() - t0) / 1000).toFixed(3);
    const lines = ((this.partial.get(step.id) ?? '') + text).split('\n');
    this.partial.set(step.id, lines.pop() ?? '');
    for (const line of lines) this.out.write(`#${step.id} ${stamp} ${line}\n`);
  }

  private flush(step: StepInfo): void {
    const rest = this.partial.get(step.id);
    if (rest) this.out.write(`#${step.id} ${rest}\n`);
    this.partial.delete(step.id);
  }

  close(): void {}
}
