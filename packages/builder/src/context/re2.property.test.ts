/**
 * Property tests of the RE2-subset engine (fast-check; run count, seed and per-case bound
 * from `@tsbuild/layerstore/testing`): on small inputs it agrees with JavaScript's
 * backtracking RegExp for expressions both read alike, with a small cache budget as with
 * the default one; and any source compiles or fails with a Re2SyntaxError, and the program
 * then answers for any input.
 */
import test from 'ava';
import { strictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { bounded, outcome, propertyParameters, Tally } from '@tsbuild/layerstore/testing';
import { CacheBudget } from './re2-dfa.js';
import { compileRe2, Re2SyntaxError } from './re2-parse.js';

/**
 * An expression in the syntax RE2 and JavaScript (`u` flag) read the same way, but for `.`,
 * within the subset the engine implements: what `.dockerignore` patterns turn into. They
 * escape `|`, `{`, `}`, `(` and `)`, so alternation, counted repetition and `(?:` never
 * reach it (it reads `|` and `{` as literals).
 */
type Re =
  | { lit: string }
  | { dot: true }
  | { cls: string }
  | { esc: string }
  | { cat: Re[] }
  | { rep: Re; op: string };

const { re } = fc.letrec<{ re: Re }>((tie) => ({
  re: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('a', 'b', '/', 'é', '😀', ' ', '\n', '\\.', '-', '\\*').map((lit): Re => ({ lit })),
    fc.constant<Re>({ dot: true }),
    fc.constantFrom('[ab]', '[a-c]', '[^a/]', '[é😀]', '[^\\n]', '[.-]', '[\\w/]').map((cls): Re => ({ cls })),
    fc.constantFrom('\\d', '\\w', '\\D', '\\W', '\\b', '\\B', '^', '$', '\\A', '\\z').map((esc): Re => ({ esc })),
    fc.array(tie('re'), { maxLength: 4 }).map((cat): Re => ({ cat })),
    fc.record({ rep: tie('re'), op: fc.constantFrom('*', '+', '?', '*?', '+?', '??') }).map((r): Re => r),
  ),
}));

function print(r: Re, js: boolean): string {
  if ('lit' in r) return r.lit;
  if ('dot' in r) return js ? '[^\\n]' : '.'; // JavaScript's `.` also stops at \r, U+2028, U+2029
  if ('cls' in r) return r.cls;
  if ('esc' in r) {
    if (js && r.esc === '\\A') return '^';
    if (js && r.esc === '\\z') return '$';
    return r.esc;
  }
  if ('cat' in r) return r.cat.map((x) => print(x, js)).join('');
  return `(${print(r.rep, js)})${r.op}`;
}

// No astral characters: V8 tries `\B` between the two halves of a surrogate pair even with
// the `u` flag (/\B/u.test('a😀a') is true), where Go (and the engine) see code points.
const input = fc.string({ unit: fc.constantFrom('a', 'b', 'c', '/', '.', '-', ' ', '\n', '1', '_', 'é'), maxLength: 10 });

test('the engine agrees with a backtracking RegExp on small inputs', (t) => {
  const tally = new Tally();
  fc.assert(
    fc.property(
      re,
      fc.array(input, { minLength: 1, maxLength: 4 }),
      bounded((r: Re, inputs: string[]) => {
        const source = print(r, false);
        const program = compileRe2(source);
        const tight = compileRe2(source, { budget: new CacheBudget(2, 64) });
        const reference = new RegExp(print(r, true), 'u');
        for (const s of inputs) {
          const want = reference.test(s);
          strictEqual(program.search(s), want, `${source} on ${JSON.stringify(s)}`);
          strictEqual(tight.search(s), want, `${source} on ${JSON.stringify(s)}, small cache`);
          tally.add(String(want));
        }
      }),
    ),
    propertyParameters(),
  );
  t.log(`matched: ${tally}`);
  t.true(tally.has('true') && tally.has('false'));
});

const sourcePiece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('(', ')', '(?:', '[', ']', '^', '-', '\\', '*', '+', '?', '{', '}', ',', '|', '.', '$', ':]', '[:', '\\p', '\\P', '{L}', '\\Q', '\\E', '\\x', '\\d', '0', '9', 'a', 'z', 'é') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 3 }) },
);

test('any source compiles or fails with a Re2SyntaxError, and a program answers for any input', (t) => {
  const tally = new Tally();
  fc.assert(
    fc.property(
      fc.array(sourcePiece, { maxLength: 30 }).map((p) => p.join('')),
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      bounded((source: string, s: string) => {
        tally.add(
          outcome(
            () => compileRe2(source).search(s),
            (err) => (err instanceof Re2SyntaxError ? 'Re2SyntaxError' : undefined),
          ),
        );
      }),
    ),
    propertyParameters(),
  );
  t.log(`compile: ${tally}`);
  t.true(tally.has('ok') && tally.has('Re2SyntaxError'), String(tally));
});
