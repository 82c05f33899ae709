import test from 'ava';
import { ExecutorError } from '@tsbuild/executor';
import { LayerstoreError } from '@tsbuild/layerstore';
import { BuildError, UsageError } from '../errors.js';
import { CommandLineError } from './command.js';
import { describeError, exitStatus } from './exit-status.js';

test('usage errors exit 2, every other failure 1', (t) => {
  t.is(exitStatus(new UsageError('--progress x: want auto, plain, tty or json')), 2);
  t.is(exitStatus(new CommandLineError('a build context is required')), 2);
  t.is(exitStatus(new BuildError('TSBUILD_USAGE', '-t bad: invalid tag')), 2);
  t.is(exitStatus(new BuildError('TSBUILD_STEP_FAILED', 'RUN failed')), 1);
  t.is(exitStatus(new LayerstoreError('TSBUILD_REGISTRY_UNAVAILABLE', 'cannot reach x')), 1);
  t.is(exitStatus(new ExecutorError('TSBUILD_SANDBOX_SETUP', 'sandbox worker exited (1) before it was ready')), 1);
  t.is(exitStatus(new Error('anything')), 1);
});

test('typed errors are shown by their message (a Dockerfile\'s with its line), untyped ones with their stack', (t) => {
  const located = new BuildError('TSBUILD_SOURCE_NOT_FOUND', 'COPY source not found: app/', { location: { file: 'Dockerfile', startLine: 7, endLine: 7 } });
  t.is(describeError(located), 'Dockerfile:7: COPY source not found: app/');
  t.is(describeError(new LayerstoreError('TSBUILD_REFERENCE_INVALID', 'no such image: x')), 'no such image: x');
  t.is(describeError(new ExecutorError('TSBUILD_SANDBOX_UNSUPPORTED', 'the sandbox needs root')), 'the sandbox needs root');
  const abort = new Error('aborted');
  abort.name = 'AbortError';
  t.is(describeError(abort), 'build cancelled');
  t.regex(describeError(new Error('boom')), /^Error: boom\n\s+at /);
  t.is(describeError('text'), 'text');
});
