import test from 'ava';
import { canonicalJson, firstDifference } from './cache-key.js';
import { cutPair, showDifference, SHOWN_MAX } from './show-difference.js';

const PREFIX = `A_VERY_LONG_SETTING=${'x'.repeat(200)}`;

test('short values are shown whole', (t) => {
  t.deepEqual(showDifference('TOKEN=abc', 'TOKEN=xyz', canonicalJson), ['"TOKEN=abc"', '"TOKEN=xyz"']);
  t.deepEqual(showDifference(['a'], { b: 1 }, canonicalJson), ['["a"]', '{"b":1}']);
});

test('two long values that share a prefix show where they differ, not the same prefix twice', (t) => {
  const [a, b] = showDifference(`${PREFIX};TOKEN=abc`, `${PREFIX};TOKEN=xyz`, canonicalJson);
  t.not(a, b);
  t.is(a, `"…${'x'.repeat(9)};TOKEN=abc"`);
  t.is(b, `"…${'x'.repeat(9)};TOKEN=xyz"`);
});

test('a difference in the middle of long values: elided on both sides, at most SHOWN_MAX characters', (t) => {
  const tail = 'y'.repeat(300);
  const [a, b] = showDifference(`${PREFIX}-old-${tail}`, `${PREFIX}-new-${tail}`, canonicalJson);
  t.true(a.startsWith('"…') && a.endsWith('…"'), a);
  t.true(a.includes('-old-') && b.includes('-new-'), `${a} / ${b}`);
  t.true(a.length <= SHOWN_MAX && b.length <= SHOWN_MAX);
});

test('a long value against a short one, and values that differ at the start', (t) => {
  const [a, b] = cutPair('abc', `abc${'z'.repeat(200)}`, 20);
  t.is(a, 'abc');
  t.is(b, `abc${'z'.repeat(16)}…`);
  const [c, d] = cutPair(`1${'q'.repeat(100)}`, `2${'q'.repeat(100)}`, 10);
  t.is(c, `1${'q'.repeat(8)}…`);
  t.is(d, `2${'q'.repeat(8)}…`);
});

test('the cut never splits a surrogate pair', (t) => {
  const emoji = '😀'.repeat(40);
  const [a, b] = cutPair(`${emoji}a${'-'.repeat(50)}`, `${emoji}b${'-'.repeat(50)}`, 30);
  for (const s of [a, b]) t.false(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s), s);
});

test('a cache miss on a long env entry names the part that changed', (t) => {
  const before = { env: ['PATH=/bin', `${PREFIX};TOKEN=abc`] };
  const now = { env: ['PATH=/bin', `${PREFIX};TOKEN=xyz`] };
  const why = firstDifference(before, now)!;
  t.regex(why, /^env\[1\] was "….*TOKEN=abc", now "….*TOKEN=xyz"$/);
});
