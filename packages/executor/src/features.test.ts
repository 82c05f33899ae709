import test from 'ava';
import { FALLBACK_KEYS, FALLBACKS_ENV, kernelFeatures, type KernelFeatures } from './features.js';

const root = process.getuid?.() === 0;

test('each feature is detected as a boolean, and the switch turns all of them off', (t) => {
  if (!root) return t.pass('the probes need root');
  const found = kernelFeatures({});
  t.deepEqual(Object.keys(found).sort(), Object.values(FALLBACK_KEYS).sort());
  for (const v of Object.values(found)) t.is(typeof v, 'boolean');
  const forced = kernelFeatures({ [FALLBACKS_ENV]: 'all' });
  t.deepEqual(Object.values(forced), Object.values(found).map(() => false));
});

test('a list in the switch turns off only the features it names', (t) => {
  if (!root) return t.pass('the probes need root');
  const found = kernelFeatures({});
  const forced = kernelFeatures({ [FALLBACKS_ENV]: 'pidns, lowerdir+' });
  const expected: KernelFeatures = { ...found, procPidns: false, overlayAppend: false };
  t.deepEqual(forced, expected);
});

test('an unknown name in the switch is an error naming the known ones', (t) => {
  if (!root) return t.pass('the probes need root');
  const err = t.throws(() => kernelFeatures({ [FALLBACKS_ENV]: 'pidns,overlay' }));
  t.is((err as { code?: string }).code, 'TSBUILD_SANDBOX_SETUP');
  t.regex(err!.message, /TSBUILD_SANDBOX_FALLBACKS: unknown feature "overlay" \(known: all, lowerdir\+, pidns, mount_setattr, close_range_cloexec, userns_overlay\)/);
});
