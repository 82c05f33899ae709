/**
 * Hostile words end in a result or an ExpansionError: deep nesting (once a RangeError),
 * outputs that grow without bound (once seconds of work before anything failed),
 * patterns that made the old matcher scan the value once per start position; then
 * seeded random words. No test measures time: a hang is caught by ava's timeout.
 */
import test from 'ava';
import { prng } from '@tsbuild/layerstore/testing';
import { envFromList, ExpansionError, MAX_EXPANSION, MAX_NESTING, ShellLex } from './shell-lex.js';

const lex = new ShellLex();
const expand = (word: string, env: string[] = []): string => lex.processWord(word, envFromList(env));

test('${a:- ×3,000 (unclosed) is an ExpansionError, not a stack overflow', (t) => {
  const err = t.throws(() => expand('${a:-'.repeat(3_000)), { instanceOf: ExpansionError });
  t.is(err?.code, 'TSBUILD_EXPANSION');
  t.regex(err?.message ?? '', /nested more than 128 deep/);
});

test(`\${...} nests up to ${MAX_NESTING} deep, not one more`, (t) => {
  const nest = (n: number): string => `${'${a:-'.repeat(n)}x${'}'.repeat(n)}`;
  t.is(expand(nest(MAX_NESTING)), 'x');
  t.is(expand(`"${nest(MAX_NESTING)}"`), 'x');
  t.throws(() => expand(nest(MAX_NESTING + 1)), { instanceOf: ExpansionError, message: /nested more than/ });
});

test('$12 ×10,000 with a 2,000-character value fails on the size limit as it grows', (t) => {
  const env = [`12=${'v'.repeat(2_000)}`];
  t.throws(() => expand('$12'.repeat(10_000), env), { instanceOf: ExpansionError, message: /longer than 1048576 characters/ });
  t.throws(() => lex.processWords('$12 '.repeat(10_000), envFromList(env)), { instanceOf: ExpansionError });
  t.throws(() => expand(`"${'$12'.repeat(10_000)}"`, env), { instanceOf: ExpansionError });
  t.is(expand('$12'.repeat(500), env).length, 1_000_000, 'just under the limit is fine');
});

test('a replacement that multiplies the value fails on the size limit', (t) => {
  // The replacement is a Go template after expansion: `$0` in a variable's value is the match.
  const env = [`A=${'a'.repeat(10_000)}`, `R0=${'$0'.repeat(200)}`, `RX=${'$x'.repeat(5_000)}`];
  t.throws(() => expand('${A//?/$R0}', env), { instanceOf: ExpansionError, message: /longer than/ });
  t.is(expand('${A//?/$RX}', env), '', 'references that expand to nothing cost nothing per match');
  t.is(MAX_EXPANSION, 1 << 20);
});

test('patterns over a long value take one pass, whatever they are', (t) => {
  const long = 'a'.repeat(200_000);
  const env = [`A=${long}`];
  t.is(expand('${A//?x/y}', env), long);
  t.is(expand('${A/*b/y}', env), long);
  t.is(expand('${A#*a*a*a*a*a*a*a*b}', env), long);
  t.is(expand('${A%%*a*a*a*a*a*a*a*b}', env), long);
  t.is(expand('${A##*a}', env), '');
  t.is(expand('${A%a*}', env).length, 199_999);
  t.is(expand(`\${A/${'*'.repeat(20_000)}b/y}`, env), long);
});

test('random words: a result or an ExpansionError, never another error', (t) => {
  const rand = prng(2024);
  const parts = ['${', '}', '$', 'A', 'B', '1', '@', ':', '-', '+', '?', '#', '%', '/', '*', '\\', '`', '"', "'", 'a', ' ', '\n',
    '$0', '${0}', '$$', '\uFEFF', 'é', '\u{1F600}', '\uD800', '${A', '${A:-', '${A//', '${A#', '"${', '{'];
  const values = ['', 'x', 'a b', '*', '$A', '${B}', '"', '\n', 'é'.repeat(50), 'ab'.repeat(100)];
  const outcomes = new Set<string>();
  for (let i = 0; i < 4000; i++) {
    let word = '';
    for (let n = rand(24); n > 0; n--) word += parts[rand(parts.length)];
    const env = envFromList([`A=${values[rand(values.length)]}`, `B=${values[rand(values.length)]}`]);
    const l = new ShellLex(rand(4) === 0 ? '`' : '\\');
    try {
      l.processWord(word, env);
      l.processWords(word, env);
      outcomes.add('ok');
    } catch (err) {
      if (!(err instanceof ExpansionError)) throw err;
      outcomes.add(err.code);
    }
  }
  t.deepEqual([...outcomes].sort(), ['TSBUILD_EXPANSION', 'ok']);
});
