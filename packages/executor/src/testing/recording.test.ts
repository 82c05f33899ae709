import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingExecutor } from './recording.js';
import type { RunRequest } from '../types.js';

const req = (args: string[], extra: Partial<RunRequest> = {}): RunRequest => ({
  rootfs: { lowerdirs: ['/l'] },
  process: { args, env: [], cwd: '/', user: { uid: 0, gid: 0 } },
  network: 'host',
  ...extra,
});

test('records requests and answers from a list, in order', async (t) => {
  const ex = new RecordingExecutor([{ stdout: 'hi\n' }, { exitCode: 3, stderr: 'boom' }, { setupError: 'no such user' }]);
  let out = '';
  let err = '';
  const r1 = await ex.run(req(['a'], { onStdout: (b) => (out += b) }));
  const r2 = await ex.run(req(['b'], { onStderr: (b) => (err += b) }));
  const r3 = await ex.run(req(['c']));
  const r4 = await ex.run(req(['d']));
  t.deepEqual([r1.exitCode, r2.exitCode, r3.exitCode, r4.exitCode], [0, 3, 125, 0]);
  t.is(r3.setupError, 'no such user');
  t.is(out, 'hi\n');
  t.is(err, 'boom');
  t.deepEqual(ex.requests.map((r) => r.process.args), [['a'], ['b'], ['c'], ['d']]);
});

test('a function script can act on the upper dir like the command would', async (t) => {
  const upper = mkdtempSync(join(tmpdir(), 'tsbuild-rec-'));
  try {
    const ex = new RecordingExecutor((r) => ({ effect: (q) => writeFileSync(join(q.rootfs.upperdir!, 'made'), r.process.args.join(' ')) }));
    await ex.run(req(['touch', '/made'], { rootfs: { lowerdirs: [], upperdir: upper, workdir: upper } }));
    t.is(readFileSync(join(upper, 'made'), 'utf8'), 'touch /made');
  } finally {
    rmSync(upper, { recursive: true, force: true });
  }
});
