/**
 * The RE2 subset engine on its own (dockerignore.test.ts covers it through patterns):
 * search semantics, code points, assertions, cached and uncached paths, Go's errors.
 */
import test from 'ava';
import { CacheBudget } from './re2-dfa.js';
import { compileRe2, Re2SyntaxError } from './re2-parse.js';

const search = (src: string, input: string): boolean => compileRe2(src).search(input);

test('anchors, stars and search anywhere (Go MatchString)', (t) => {
  t.true(search('^a*b$', 'aaab'));
  t.false(search('^a*b$', 'aaa'));
  t.true(search('b', 'abc'), 'unanchored: a match anywhere');
  t.false(search('^b', 'abc'));
  t.true(search('^(a+)?c$', 'c'));
  t.true(search('^(.*/)?x$', 'd/e/x'));
  t.false(search('^.$', '\n'), '. is [^\\n]');
});

test('one code point is one character; classes, categories and negation', (t) => {
  t.true(search('^.$', '\u{1F600}'));
  t.true(search('^a\\pLb$', 'aéb'));
  t.false(search('^a\\PLb$', 'aéb'));
  t.true(search('^[^a-z]$', '☺'));
  t.true(search('^[[:^digit:]\\d]$', '7'));
  t.true(search('^\\x41\\101$', 'AA'));
  t.true(search('^\\Qa.b$', 'a.b$'), '\\Q makes the rest literal');
});

test('word boundaries are decided with the next character, also at the end', (t) => {
  t.true(search('^a\\b', 'a'));
  t.true(search('^a\\b', 'a-'));
  t.false(search('^a\\b', 'ab'));
  t.true(search('^a\\B', 'ab'));
  t.false(search('^a\\B', 'a'));
  t.true(search('\\ba', 'x a'));
});

test('repeated searches reuse cached states and agree with fresh ones', (t) => {
  const p = compileRe2('^([^/]*/)*[^/]*\\.log$');
  const inputs = ['a/b.log', 'a/b.txt', 'x.log', '.log', 'a/b/c/d.lo', 'é/ü.log'];
  const first = inputs.map((s) => p.search(s));
  t.deepEqual(inputs.map((s) => p.search(s)), first);
  t.deepEqual(first, [true, false, true, true, false, true]);
});

test('programs sharing a small cache budget stay within it and still answer right', (t) => {
  const budget = new CacheBudget(8, 1000);
  const a = compileRe2('^(a[^/])*$', { budget });
  const b = compileRe2('^[^/]*x[^/]*$', { budget });
  for (let n = 0; n < 30; n++) {
    t.true(a.search('ab'.repeat(n)));
    t.false(a.search(`${'ab'.repeat(n)}a`));
    t.is(b.search(`${'y'.repeat(n)}x`), true);
    t.is(b.search('y'.repeat(n)), false);
    t.true(budget.states <= budget.maxStates + 2, String(budget.states));
  }
});

test("Go's regexp errors", (t) => {
  for (const src of ['(', ')', '*', 'a**', '[a', '\\C', '\\pX', '[z-a]', '\\8', 'a\\', '[[:nope:]]', '\\x4']) {
    t.throws(() => compileRe2(src), { instanceOf: Re2SyntaxError }, src);
  }
});
