import test from 'ava';
import { LayerstoreError } from '@tsbuild/layerstore';
import { BuildError, UsageError } from '../errors.js';
import { CommandLineError } from './command.js';
import { describeError, exitStatus } from './exit-status.js';

test('usage errors exit 2, every other failure 1', (t) => {
  t.is(exitStatus(new UsageError('--progress x: want auto, plain, tty or json')), 2);
  t.is(exitStatus(new CommandLineError('a build context is required')), 2);
  t.is(exitStatus(new BuildError('TSBUILD_USAGE', '-t bad: invalid tag')), 2);
  t.is(exitStatus(new BuildError('TSBUILD_STEP_FAILED', 'RUN failed')), 1);
  t.is(exitStatus(new Error('anything')), 1);
});

test('typed errors are shown by their message (a Dockerfile\'s with its line), untyped ones with their stack', (t) => {
  const located = new BuildError('TSBUILD_SOURCE_NOT_FOUND', 'COPY source not found: app/', { location: { file: 'Dockerfile', startLine: 7, endLine: 7 } });
  t.is(describeError(located), 'Dockerfile:7: COPY source not found: app/');
  t.is(describeError(new LayerstoreError('TSBUILD_REFERENCE_INVALID', 'no such image: x')), 'no such image: x');
  const abort = new Error('aborted');
  abort.name = 'AbortError';
  t.is(describeError(abort), 'build cancelled');
  t.regex(describeError(new Error('boom')), /^Error: boom\n\s+at /);
  t.is(describeError('text'), 'text');
});
