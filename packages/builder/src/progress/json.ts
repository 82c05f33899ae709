/** `--progress json`: one JSON object per line; log data as UTF-8 text (or base64 when not UTF-8). */
import type { Writable } from 'node:stream';
import type { BuildEvent } from '../solve/index.js';
import type { Renderer } from './renderer.js';

export class JsonRenderer implements Renderer {
  constructor(private readonly out: Writable) {}

  event(e: BuildEvent): void {
    const time = new Date().toISOString();
    if (e.type === 'step-log') {
      const text = e.data.toString('utf8');
      const exact = Buffer.from(text, 'utf8').equals(e.data);
      this.out.write(`${JSON.stringify({ time, type: e.type, step: e.step, stream: e.stream, ...(exact ? { data: text } : { dataBase64: e.data.toString('base64') }) })}\n`);
      return;
    }
    this.out.write(`${JSON.stringify({ time, ...e })}\n`);
  }

  close(): void {}
}
