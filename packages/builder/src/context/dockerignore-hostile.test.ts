/**
 * Hostile `.dockerignore` files end in a result or a BuildError naming file and line:
 * the inputs that once took seconds or minutes (a backtracking RegExp) or ended in a
 * SyntaxError, then seeded random patterns and paths. No test measures time: a hang is
 * caught by ava's timeout.
 */
import test from 'ava';
import { prng } from '@tsbuild/layerstore/testing';
import { BuildError } from '../errors.js';
import { compilePattern } from './dockerignore-pattern.js';
import { IgnoreMatcher, parseDockerignore } from './dockerignore.js';

const matcher = (text: string): IgnoreMatcher => new IgnoreMatcher(parseDockerignore(text, 'ctx/.dockerignore'));
const deep = (levels: number, name = 'f'): string => `${'d/'.repeat(levels)}${name}`;

test('*a*a*a*a*a*a*a*b against a file named a×200', (t) => {
  const m = matcher('*a*a*a*a*a*a*a*b\n');
  t.false(m.excludes('a'.repeat(200)));
  t.true(m.excludes(`${'a'.repeat(200)}b`));
});

test('a search whose states keep growing stops caching them and still answers right', (t) => {
  const m = matcher(`${'*a'.repeat(2_000)}b\n`);
  t.false(m.excludes('a'.repeat(4_000)));
  t.true(m.excludes(`${'a'.repeat(4_000)}b`));
  t.false(m.excludes(`${'a'.repeat(1_999)}b`));
});

test('`**/` ×16 then x against a 40-level path', (t) => {
  const m = matcher(`${'**/'.repeat(16)}x\n`);
  t.false(m.excludes(deep(40)));
  t.true(m.excludes(deep(40, 'x')));
});

test('\\b ×16 compiles at once and is a word boundary', (t) => {
  const m = matcher(`${'\\b'.repeat(16)}a\n`);
  t.true(m.excludes('a'));
  t.false(m.excludes('ba'));
});

test('a? ×10,000 is a pattern like any other, not a stack overflow', (t) => {
  const m = matcher(`${'a?'.repeat(10_000)}\n`);
  t.true(m.excludes('ab'.repeat(10_000)));
  t.false(m.excludes('ab'.repeat(9_999)));
});

test('\\Q followed by 20,000 * is a long literal, not "Regular expression too large"', (t) => {
  const text = `\\Q${'*'.repeat(20_000)}`;
  t.false(matcher(`${text}\n`).excludes('x'));
  // Under \Q the regexp text that the stars became is literal, the final `$` included.
  t.true(compilePattern(text)(`${'(.*/)?'.repeat(9_999)}.*$`));
});

test('named-class look-ahead stays linear: [[: then 21,000 [: with no :]', (t) => {
  t.false(matcher(`[[:${'[:'.repeat(21_000)}a]\n`).excludes('x'));
});

test('blanks inside a long line are trimmed in linear time', (t) => {
  t.true(matcher(`x${' '.repeat(60_000)}x\n`).excludes(`x${' '.repeat(60_000)}x`));
});

test('a path thousands of levels deep is matched without recursion', (t) => {
  const m = matcher('d\n!d/d\n');
  t.false(m.excludes(deep(5_000)));
  t.true(m.excludes('d/f'));
});

test('a bad pattern deep in a file is a BuildError naming file and line', (t) => {
  const err = t.throws(() => parseDockerignore(`a\n${'a?'.repeat(100)}[\n`, 'ctx/.dockerignore'), { instanceOf: BuildError });
  t.is(err?.code, 'TSBUILD_DOCKERIGNORE');
  t.deepEqual(err?.location, { file: 'ctx/.dockerignore', startLine: 2, endLine: 2 });
});

test('random patterns and paths: a result or a BuildError, never another error', (t) => {
  const rand = prng(82);
  const patternParts = ['a', 'b', '*', '**', '**/', '?', '/', '[', ']', '^', '-', '!', '\\', '\\d', '\\b', '\\B', '\\Q', '\\E',
    '\\pL', '\\PN', '\\p', '\\x4', '\\x41', '\\0', '\\777', '[:alpha:]', '[:^digit:]', '[:nope:]', ':]', '.', '$', '(', ')',
    '+', '{', '|', 'é', '☺', '\uFEFF', '\uD800', ' ', '\t', '#', '..', '\r'];
  const pathParts = ['a', 'b', '/', 'x', '0', 'é', '☺', '$', '.', '(', '*', '[', ']', '\\', '\n', ' ', '_', '-', 'Q', '\uD800', '\u{1F600}'];
  const pick = (parts: string[], max: number): string => {
    let out = '';
    for (let n = rand(max); n > 0; n--) out += parts[rand(parts.length)];
    return out;
  };
  const outcomes = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    const lines = Array.from({ length: 1 + rand(3) }, () => pick(patternParts, 12));
    let m: IgnoreMatcher;
    try {
      m = matcher(lines.join('\n'));
    } catch (err) {
      if (!(err instanceof BuildError) || err.location?.file !== 'ctx/.dockerignore') throw err;
      outcomes.add(err.code);
      continue;
    }
    // Random paths, and paths made from a line by filling in its wildcards (which often match).
    const filled = lines.map((l) => l.replace(/^!/, '').replace(/\*\*/g, 'a/b').replace(/\*/g, 'xy').replace(/\?/g, 'q'));
    for (let k = 0; k < 6; k++) {
      const p = k < 3 ? pick(pathParts, 16) : filled[rand(filled.length)]!;
      outcomes.add(String(m.excludes(p)));
      if (m.excludes(p)) m.canSkipDir(p);
    }
  }
  t.deepEqual([...outcomes].sort(), ['TSBUILD_DOCKERIGNORE', 'false', 'true']);
});
