import test from 'ava';
import { PassThrough } from 'node:stream';
import type { BuildEvent, StepInfo } from '../solve/index.js';
import { MAX_KEPT, QuietRenderer } from './quiet.js';

function render(events: BuildEvent[]): string {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const r = new QuietRenderer(out);
  for (const e of events) r.event(e);
  r.close();
  return text;
}

const ok: StepInfo = { id: 2, name: '[stage-0 2/3] RUN echo fine' };
const bad: StepInfo = { id: 3, name: '[stage-0 3/3] RUN echo broken; exit 3' };
const log = (step: StepInfo, data: string, stream: 'stdout' | 'stderr' = 'stdout'): BuildEvent => ({ type: 'step-log', step, stream, data: Buffer.from(data) });

test('a build that succeeds prints nothing', (t) => {
  t.is(render([{ type: 'step-start', step: ok }, log(ok, 'fine\n'), { type: 'step-done', step: ok, durationMs: 1, cached: false }, { type: 'warning', message: 'w' }, { type: 'export', message: 'x' }]), '');
});

test('a failed step prints its name, its output (both streams, in order) and its error; other steps stay quiet', (t) => {
  const text = render([
    { type: 'step-start', step: ok },
    { type: 'step-start', step: bad },
    log(ok, 'fine\n'),
    log(bad, 'broken '),
    log(bad, 'half\n', 'stderr'),
    log(bad, 'no newline at the end'),
    { type: 'step-done', step: ok, durationMs: 1, cached: false },
    { type: 'step-error', step: bad, durationMs: 1, message: 'process "/bin/sh -c echo broken; exit 3" did not complete successfully: exit code: 3' },
  ]);
  t.is(text, [
    '#3 [stage-0 3/3] RUN echo broken; exit 3',
    '#3 broken half',
    '#3 no newline at the end',
    '#3 ERROR: process "/bin/sh -c echo broken; exit 3" did not complete successfully: exit code: 3',
    '',
  ].join('\n'));
});

test('a step that fails without output still says which step and why', (t) => {
  t.is(render([{ type: 'step-error', step: bad, durationMs: 1, message: 'COPY failed' }]), '#3 [stage-0 3/3] RUN echo broken; exit 3\n#3 ERROR: COPY failed\n');
});

test('a chatty step keeps only its last MAX_KEPT bytes, in whole lines, and says so', (t) => {
  const line = `${'x'.repeat(99)}\n`;
  const events: BuildEvent[] = [];
  for (let i = 0; i < (MAX_KEPT / line.length) * 3; i++) events.push(log(bad, `${String(i).padStart(6, '0')}${line}`));
  events.push(log(bad, 'the last words\n'), { type: 'step-error', step: bad, durationMs: 1, message: 'exit code: 1' });
  const lines = render(events).split('\n');
  t.is(lines[1], `#3 [output before the last ${MAX_KEPT} bytes cut]`);
  t.regex(lines[2]!, /^#3 \d{6}x{99}$/, 'the first kept line is whole');
  t.is(lines.at(-3), '#3 the last words');
  const kept = lines.slice(2, -2).reduce((n, l) => n + l.length - 3 + 1, 0);
  t.true(kept <= MAX_KEPT && kept > MAX_KEPT - 2 * line.length, String(kept));
});
