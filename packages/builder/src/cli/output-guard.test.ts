import test from 'ava';
import { Writable } from 'node:stream';
import { BROKEN_PIPE_EXIT, OutputGuard } from './output-guard.js';

/** A stream whose writes fail with `code` (none: they succeed and are kept). */
function stream(code?: string): Writable & { text: string } {
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (code === undefined) {
        w.text += chunk.toString();
        cb();
      } else cb(Object.assign(new Error(`write ${code}`), { code, syscall: 'write' }));
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

test('EPIPE on stdout: onClosed runs once, later writes are dropped, 141 and nothing said', async (t) => {
  const stdout = stream('EPIPE');
  const stderr = stream();
  let calls = 0;
  const guard = new OutputGuard({ stdout, stderr }, () => calls++);
  stdout.write('a\n');
  stdout.write('b\n');
  await guard.settle();
  t.is(calls, 1);
  t.is(guard.closed?.stream, 'stdout');
  t.is(guard.report(), BROKEN_PIPE_EXIT);
  t.is(stderr.text, '');
});

test('another write error (ENOSPC) is one line on stderr and 1', async (t) => {
  const stdout = stream('ENOSPC');
  const stderr = stream();
  const guard = new OutputGuard({ stdout, stderr }, () => {});
  stdout.write('x');
  await guard.settle();
  t.is(guard.report(), 1);
  t.is(stderr.text, 'tsbuild: write /dev/stdout: no space left on device\n');
});

test('when stderr itself failed, nothing more is written to it', async (t) => {
  const stdout = stream();
  const stderr = stream('EIO');
  const guard = new OutputGuard({ stdout, stderr }, () => {});
  stderr.write('progress');
  await guard.settle();
  t.is(guard.closed?.stream, 'stderr');
  t.is(guard.report(), 1);
});

test('no failure: nothing to report', async (t) => {
  const guard = new OutputGuard({ stdout: stream(), stderr: stream() }, () => t.fail());
  await guard.settle();
  t.is(guard.closed, undefined);
  t.is(guard.report(), 0);
});
