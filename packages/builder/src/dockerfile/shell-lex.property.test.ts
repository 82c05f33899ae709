/**
 * Property tests of the word expander (fast-check; run count, seed and per-case bound from
 * `@tsbuild/layerstore/testing`): any word, with either escape token, expands or fails with
 * an ExpansionError; quoting and variables give back exactly the text they hold; and the
 * patterns of `${X#p}`, `${X##p}`, `${X%p}`, `${X%%p}`, `${X/p/r}` and `${X//p/r}` agree
 * with a backtracking reference matcher on small values.
 */
import test from 'ava';
import { strictEqual, deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { bounded, outcome, propertyParameters, Tally } from '@tsbuild/layerstore/testing';
import { envFromList, ExpansionError, ShellLex } from './shell-lex.js';

const expansionCode = (err: unknown): string | undefined => (err instanceof ExpansionError ? err.code : undefined);

const piece = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('$', '{', '}', '${', ':', '-', '+', '?', '#', '##', '%', '%%', '/', '//', '*', '"', "'", '\\', '`', ' ', '\t', '\n', 'A', 'B', 'U', '1', '@', 'a', 'é', '😀', '\uFEFF') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 3 }) },
);
const word = fc.array(piece, { maxLength: 40 }).map((p) => p.join(''));
const env = fc.record({ A: fc.string({ maxLength: 8 }), B: fc.array(piece, { maxLength: 6 }).map((p) => p.join('')) });

test('any word expands, or fails with an ExpansionError', (t) => {
  const tally = new Tally();
  fc.assert(
    fc.property(
      word,
      env,
      fc.constantFrom<'\\' | '`'>('\\', '`'),
      bounded((w: string, vars: { A: string; B: string }, escape: '\\' | '`') => {
        const lex = new ShellLex(escape);
        const lookup = envFromList([`A=${vars.A}`, `B=${vars.B}`]);
        const result = outcome(() => lex.processWord(w, lookup), expansionCode);
        strictEqual(outcome(() => lex.processWords(w, lookup), expansionCode), result, 'processWords fails where processWord does');
        tally.add(result);
      }),
    ),
    propertyParameters(),
  );
  t.log(`expand: ${tally}`);
  t.true(tally.has('ok') && tally.has('TSBUILD_EXPANSION'), String(tally));
});

const lex = new ShellLex();
const noEnv = envFromList([]);
/** Any text, quotes, escapes and `$` included. */
const text = fc.string({ unit: fc.oneof(fc.constantFrom('"', "'", '\\', '$', '{', '}', '`', ' ', '\t', '\n', 'é', '😀'), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 })), maxLength: 20 });

test('quoted text and variables expand to exactly the text they hold', (t) => {
  t.plan(0);
  fc.assert(
    fc.property(
      text,
      bounded((s: string) => {
        const double = `"${s.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
        strictEqual(lex.processWord(double, noEnv), s);
        if (s !== '') deepStrictEqual(lex.processWords(double, noEnv), [s]);
        if (!s.includes("'")) strictEqual(lex.processWord(`'${s}'`, noEnv), s);
        const vars = envFromList([`X=${s}`]);
        for (const w of ['$X', '${X}', '"$X"', '"${X}"', '${X-fallback}', '${U:-$X}', '${U-"$X"}']) strictEqual(lex.processWord(w, vars), s, w);
        strictEqual(lex.processWord('${X:-fallback}', vars), s === '' ? 'fallback' : s);
        strictEqual(lex.processWord('${X:+set}', vars), s === '' ? '' : 'set');
        strictEqual(lex.processWord('${X+set}', vars), 'set');
        if (s !== '') deepStrictEqual(lex.processWords('"$X"', vars), [s]);
        // Unquoted, a value is split on blanks (space, tab, newline) and nothing else.
        deepStrictEqual(lex.processWords('$X', vars), s.split(/[ \t\n]+/).filter((f) => f !== ''));
      }),
    ),
    propertyParameters(),
  );
});

// --- Shell patterns against a reference. ---

type Token = { kind: 'star' } | { kind: 'any' } | { kind: 'lit'; ch: string };

/** The reference: plain backtracking over code points (`*` and `?` never match a newline). */
function matches(tokens: readonly Token[], chars: readonly string[], t = 0, c = 0): boolean {
  if (t === tokens.length) return c === chars.length;
  const token = tokens[t]!;
  if (token.kind === 'star') {
    for (let end = c; ; end++) {
      if (matches(tokens, chars, t + 1, end)) return true;
      if (end === chars.length || chars[end] === '\n') return false;
    }
  }
  if (c === chars.length || (token.kind === 'lit' ? chars[c] !== token.ch : chars[c] === '\n')) return false;
  return matches(tokens, chars, t + 1, c + 1);
}

function reference(op: string, value: string, tokens: Token[], replacement: string): string {
  const v = Array.from(value);
  const m = (from: number, to: number) => matches(tokens, v.slice(from, to));
  const join = (a: number, b: number) => v.slice(a, b).join('');
  const range = (n: number) => Array.from({ length: n + 1 }, (_, i) => i);
  switch (op) {
    case '#':
    case '##': {
      const ends = range(v.length).filter((i) => m(0, i));
      if (ends.length === 0) return value;
      return join(op === '#' ? ends[0]! : ends[ends.length - 1]!, v.length);
    }
    case '%':
    case '%%': {
      const starts = range(v.length).filter((i) => m(i, v.length));
      if (starts.length === 0) return value;
      return join(0, op === '%' ? starts[starts.length - 1]! : starts[0]!);
    }
    default: {
      // Leftmost, then longest; `//` goes on after each match (patterns here never match empty).
      let out = '';
      let pos = 0;
      for (;;) {
        let found: [number, number] | undefined;
        for (let s = pos; s <= v.length && !found; s++) {
          for (let e = v.length; e >= s; e--) {
            if (m(s, e)) {
              found = [s, e];
              break;
            }
          }
        }
        if (!found) return out + join(pos, v.length);
        out += join(pos, found[0]) + replacement;
        pos = found[1];
        if (op === '/') return out + join(pos, v.length);
      }
    }
  }
}

const token: fc.Arbitrary<Token> = fc.oneof(
  fc.constant({ kind: 'star' } as Token),
  fc.constant({ kind: 'any' } as Token),
  fc.constantFrom('a', 'b', '/', '.', '*', '?', '\\', 'é').map((ch): Token => ({ kind: 'lit', ch })),
);

/** The pattern as written inside `${...}`; a `/` needs a backslash in the pattern of `/` and `//`. */
function print(tokens: Token[], op: string): string {
  return tokens
    .map((tk) => {
      if (tk.kind !== 'lit') return tk.kind === 'star' ? '*' : '?';
      if (tk.ch === '*' || tk.ch === '?' || tk.ch === '\\') return `\\${tk.ch}`;
      if (tk.ch === '/' && op.startsWith('/')) return '\\/';
      return tk.ch;
    })
    .join('');
}

test('${X#p}, ${X%p}, ${X/p/r} and their doubled forms agree with a backtracking matcher', (t) => {
  t.plan(0);
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom('a', 'b', '/', '.', '*', '?', '\\', 'é', '\n'), maxLength: 10 }),
      fc.array(token, { minLength: 1, maxLength: 6 }),
      fc.constantFrom('#', '##', '%', '%%', '/', '//'),
      fc.stringMatching(/^[a-c]{0,3}$/),
      bounded((value: string, tokens: Token[], op: string, replacement: string) => {
        // `**` is `*`; a replacement pattern that can match nothing is left out (see reference()).
        if (op.startsWith('/') && tokens.every((tk) => tk.kind === 'star')) return;
        const w = op.startsWith('/') ? `\${X${op}${print(tokens, op)}/${replacement}}` : `\${X${op}${print(tokens, op)}}`;
        strictEqual(lex.processWord(w, envFromList([`X=${value}`])), reference(op, value, tokens, replacement), w);
      }),
    ),
    propertyParameters(),
  );
});
