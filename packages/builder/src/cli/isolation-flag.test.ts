import test from 'ava';
import { UsageError } from '../errors.js';
import { parseIsolation } from './isolation-flag.js';

test('the flag wins over $TSBUILD_ISOLATION, which wins over auto', (t) => {
  t.is(parseIsolation(undefined, {}), 'auto');
  t.is(parseIsolation(undefined, { TSBUILD_ISOLATION: 'chroot' }), 'chroot');
  t.is(parseIsolation('sandbox', { TSBUILD_ISOLATION: 'chroot' }), 'sandbox');
  t.is(parseIsolation(['chroot', 'auto'], {}), 'auto', 'the last of a repeated flag');
});

test('a value outside auto, sandbox and chroot is a usage error naming where it came from', (t) => {
  const flag = t.throws(() => parseIsolation('rootless', {}));
  t.true(flag instanceof UsageError);
  t.is(flag!.message, '--isolation "rootless": want auto, sandbox or chroot');
  t.is(t.throws(() => parseIsolation(undefined, { TSBUILD_ISOLATION: 'none' }))!.message, '$TSBUILD_ISOLATION "none": want auto, sandbox or chroot');
});
