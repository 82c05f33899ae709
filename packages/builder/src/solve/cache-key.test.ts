import test from 'ava';
import { cacheKey, canonicalJson, firstDifference } from './cache-key.js';

test('canonical JSON sorts keys at every level and drops undefined', (t) => {
  t.is(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
  t.is(canonicalJson(new Map([['b', 1], ['a', 2]])), '{"a":2,"b":1}');
  t.is(canonicalJson(Buffer.from([1, 255])), '"hex:01ff"');
});

test('keys depend on the inputs and the parent, not on key order', (t) => {
  const a = cacheKey('p', { kind: 'RUN', args: ['sh', '-c', 'x'], env: ['A=1'] });
  t.is(a, cacheKey('p', { env: ['A=1'], args: ['sh', '-c', 'x'], kind: 'RUN' }));
  t.not(a, cacheKey('q', { kind: 'RUN', args: ['sh', '-c', 'x'], env: ['A=1'] }));
  t.not(a, cacheKey('p', { kind: 'RUN', args: ['sh', '-c', 'x'], env: ['A=2'] }));
  t.not(cacheKey('p', { args: ['a b'] }), cacheKey('p', { args: ['a', 'b'] }), 'arrays are framed');
  t.regex(a, /^sha256:[0-9a-f]{64}$/);
});

test('firstDifference names the first input that changed', (t) => {
  t.is(firstDifference({ a: 1, b: { c: 'x', d: 1 } }, { a: 1, b: { c: 'y', d: 1 } }), 'b.c was "x", now "y"');
  t.is(firstDifference({ a: [1] }, { a: [1] }), undefined);
  t.is(firstDifference({ a: 1 }, { a: 1, z: 2 }), 'z was null, now 2');
});
