/** The root error: code, cause through ErrorOptions, a subclass's own name, and the guard. */
import test from 'ava';
import { isTsbuildError, TsbuildError } from './index.js';

type FakeCode = 'TSBUILD_FAKE_ONE' | 'TSBUILD_FAKE_TWO';
class FakeError extends TsbuildError<FakeCode> {
  constructor(code: FakeCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'FakeError';
  }
}

test('a subclass keeps its code, message, cause and name, and is an Error', (t) => {
  const cause = new Error('underneath');
  const err = new FakeError('TSBUILD_FAKE_TWO', 'on top', { cause });
  t.is(err.code, 'TSBUILD_FAKE_TWO');
  t.is(err.message, 'on top');
  t.is(err.cause, cause);
  t.is(err.name, 'FakeError');
  t.true(err instanceof Error);
  t.true(err instanceof TsbuildError);
  t.regex(String(err.stack), /^FakeError: on top/);
});

test('without a cause there is no cause property', (t) => {
  t.false('cause' in new FakeError('TSBUILD_FAKE_ONE', 'x'));
});

test('isTsbuildError: typed errors yes; plain errors, errno errors and look-alikes no', (t) => {
  t.true(isTsbuildError(new TsbuildError('TSBUILD_ANY', 'x')));
  t.true(isTsbuildError(new FakeError('TSBUILD_FAKE_ONE', 'x')));
  t.false(isTsbuildError(new Error('x')));
  t.false(isTsbuildError(Object.assign(new Error('x'), { code: 'TSBUILD_FAKE_ONE' })));
  t.false(isTsbuildError({ name: 'FakeError', code: 'TSBUILD_FAKE_ONE', message: 'x' }));
  t.false(isTsbuildError(undefined));
});
