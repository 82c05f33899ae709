/**
 * Property tests of COPY/ADD source wildcards (fast-check; run count, seed and per-case
 * bound from `@tsbuild/layerstore/testing`): matchComponent agrees with a backtracking
 * reference of Go's filepath.Match on small names, and any pattern matches or fails with a
 * BuildError.
 */
import test from 'ava';
import { strictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { bounded, outcome, propertyParameters, Tally } from '@tsbuild/layerstore/testing';
import { BuildError } from '../errors.js';
import { hasWildcard, matchComponent } from './glob.js';

type Token = { kind: 'star' } | { kind: 'any' } | { kind: 'char'; ch: string } | { kind: 'class'; negated: boolean; ranges: [string, string][] };

const cp = (c: string): number => c.codePointAt(0)!;

/** The reference: plain backtracking (`*` and `?` never match '/'; a class matches any one character). */
function matches(tokens: readonly Token[], name: readonly string[], t = 0, n = 0): boolean {
  if (t === tokens.length) return n === name.length;
  const token = tokens[t]!;
  if (token.kind === 'star') {
    for (let end = n; ; end++) {
      if (matches(tokens, name, t + 1, end)) return true;
      if (end === name.length || name[end] === '/') return false;
    }
  }
  if (n === name.length) return false;
  const c = name[n]!;
  let ok: boolean;
  if (token.kind === 'any') ok = c !== '/';
  else if (token.kind === 'char') ok = c === token.ch;
  else ok = token.ranges.some(([lo, hi]) => cp(lo) <= cp(c) && cp(c) <= cp(hi)) !== token.negated;
  return ok && matches(tokens, name, t + 1, n + 1);
}

const SPECIAL = new Set(['*', '?', '[', '\\']);
const IN_CLASS = new Set([']', '-', '\\', '^']);
const letter = fc.constantFrom('a', 'b', 'c', '.', '-', ']', '^', '/', '*', '?', '[', '\\', 'é', '😀');

const token: fc.Arbitrary<Token> = fc.oneof(
  fc.constant<Token>({ kind: 'star' }),
  fc.constant<Token>({ kind: 'any' }),
  letter.map((ch): Token => ({ kind: 'char', ch })),
  fc.record({ negated: fc.boolean(), ranges: fc.array(fc.tuple(letter, letter), { minLength: 1, maxLength: 3 }) }).map((c): Token => ({ kind: 'class', ...c })),
);

function print(tokens: Token[]): string {
  const esc = (c: string, special: Set<string>) => (special.has(c) ? `\\${c}` : c);
  return tokens
    .map((tk) => {
      if (tk.kind === 'star') return '*';
      if (tk.kind === 'any') return '?';
      if (tk.kind === 'char') return esc(tk.ch, SPECIAL);
      const ranges = tk.ranges.map(([lo, hi]) => (lo === hi ? esc(lo, IN_CLASS) : `${esc(lo, IN_CLASS)}-${esc(hi, IN_CLASS)}`));
      return `[${tk.negated ? '^' : ''}${ranges.join('')}]`;
    })
    .join('');
}

test('matchComponent agrees with a backtracking matcher on small names', (t) => {
  const tally = new Tally();
  fc.assert(
    fc.property(
      fc.array(token, { maxLength: 6 }),
      // One component: no '/'. (Where a class could match a '/', Go's Match, like
      // matchComponent, keeps the first place a chunk matches and does not backtrack.)
      fc.array(fc.string({ unit: letter.filter((c) => c !== '/'), maxLength: 8 }), { minLength: 1, maxLength: 4 }),
      bounded((tokens: Token[], names: string[]) => {
        const pattern = print(tokens);
        for (const name of names) {
          const want = matches(tokens, Array.from(name));
          strictEqual(matchComponent(pattern, name), want, `${pattern} on ${JSON.stringify(name)}`);
          tally.add(String(want));
        }
        if (tokens.every((tk) => tk.kind === 'char')) strictEqual(hasWildcard(pattern), false, pattern);
      }),
    ),
    propertyParameters(),
  );
  t.log(`matched: ${tally}`);
  t.true(tally.has('true') && tally.has('false'));
});

test('any pattern matches or fails with a BuildError', (t) => {
  const tally = new Tally();
  fc.assert(
    fc.property(
      fc.string({ unit: fc.oneof(letter, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), maxLength: 20 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      bounded((pattern: string, name: string) => {
        tally.add(outcome(() => matchComponent(pattern, name), (err) => (err instanceof BuildError ? err.code : undefined)));
      }),
    ),
    propertyParameters(),
  );
  t.log(`wildcards: ${tally}`);
  t.true(tally.has('ok') && tally.has('TSBUILD_INVALID_ARGUMENT'), String(tally));
});
