/**
 * Compile the Go RE2 source that a `.dockerignore` pattern becomes (see
 * dockerignore-pattern.ts) into a Program (re2-nfa.ts builds it, re2-dfa.ts runs it), throwing where Go's regexp.Compile fails.
 * Covers what a pattern can put there: literals, `.`, `*` `+` `?` (and their lazy
 * forms), groups, `^` `$`, classes with ranges, POSIX `[:name:]`, Perl `\d\s\w` and
 * Unicode `\pL` groups, Go escapes (`\b` is a word boundary, `\x41`, octal, `\Q...\E`).
 * One pass over the source, no recursion: compile time is linear in its length.
 */
import {
  CharClass,
  complement,
  PERL_CLASSES,
  POSIX_CLASSES,
  UNICODE_CATEGORIES,
  type Ranges,
} from './re2-class.js';
import { Program, type CacheBudget } from './re2-dfa.js';
import { Assertion, ProgramBuilder, type Fragment } from './re2-nfa.js';

/** A pattern Go's regexp package rejects; the message says why. */
export class Re2SyntaxError extends Error {}

/** Items of one class (or a `\d`/`\pL` group): ranges and Unicode categories. */
interface ClassItems {
  ranges: Ranges;
  categories: { name: string; negated: boolean }[];
}

/** One level of grouping: what is concatenated so far, and the last piece (repeatable). */
interface Frame {
  done: Fragment | undefined;
  last: Fragment | undefined;
}

const ASSERTIONS: Record<string, Assertion> = {
  A: Assertion.BeginText,
  z: Assertion.EndText,
  b: Assertion.WordBoundary,
  B: Assertion.NotWordBoundary,
};
const SIMPLE_ESCAPES: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };
const isOctal = (x: string | undefined): boolean => x !== undefined && x >= '0' && x <= '7';

export function compileRe2(src: string, opts: { budget?: CacheBudget } = {}): Program {
  const s = Array.from(src);
  const b = new ProgramBuilder();
  let i = 0;
  let frame: Frame = { done: undefined, last: undefined };
  const outer: Frame[] = [];
  let last: 'none' | 'atom' | 'repeat' = 'none';
  /** Where the next `:]` is, at or after some position (searched forward once). */
  let namedClassEnd = -1;
  const fail = (what: string): never => {
    throw new Re2SyntaxError(what);
  };
  const push = (f: Fragment): void => {
    if (frame.last) frame.done = b.concat(frame.done, frame.last);
    frame.last = f;
  };
  const close = (f: Frame): Fragment => (f.last ? b.concat(f.done, f.last) : (f.done ?? b.empty()));

  // A single escaped character (the backslash is at s[i]), Go's parseEscape.
  const escapedChar = (): number => {
    const c = s[i + 1];
    if (c === undefined) return fail('trailing backslash');
    i += 2;
    const code = c.codePointAt(0)!;
    if (code < 0x80 && !/[0-9A-Za-z]/.test(c)) return code;
    if (c === '0' || (c >= '1' && c <= '7' && isOctal(s[i]))) {
      let v = code - 0x30;
      for (let n = 0; n < 2 && isOctal(s[i]); n++) v = v * 8 + s[i++]!.codePointAt(0)! - 0x30;
      return v;
    }
    if (c === 'x') {
      // Two hex digits: the `\x{...}` form cannot be written, `{` reaches the regexp escaped.
      const digits = `${s[i] ?? ''}${s[i + 1] ?? ''}`;
      if (!/^[0-9A-Fa-f]{2}$/.test(digits)) fail('invalid escape sequence');
      i += 2;
      return parseInt(digits, 16);
    }
    if (Object.hasOwn(SIMPLE_ESCAPES, c)) return SIMPLE_ESCAPES[c]!;
    return fail('invalid escape sequence');
  };

  // A `\d`-style or `\pL` group at s[i], or undefined.
  const group = (): ClassItems | undefined => {
    if (s[i] !== '\\') return undefined;
    const c = s[i + 1] ?? '';
    const perl = PERL_CLASSES[c.toLowerCase()];
    if (perl && 'dswDSW'.includes(c)) {
      i += 2;
      return { ranges: c === c.toLowerCase() ? perl : complement(perl), categories: [] };
    }
    if (c !== 'p' && c !== 'P') return undefined;
    // `{` reaches the regexp escaped, so only the one-letter form `\pL` can be written.
    const name = s[i + 2] ?? '';
    i += 3;
    if (name === '' || !UNICODE_CATEGORIES.includes(name)) fail('invalid character class range');
    return { ranges: [], categories: [{ name, negated: c === 'P' }] };
  };

  // `[:name:]` at s[i]: its ranges, or undefined when no `:]` follows (then `[` is literal).
  const namedClass = (): Ranges | undefined => {
    if (namedClassEnd < i + 2) {
      namedClassEnd = i + 2;
      while (namedClassEnd + 1 < s.length && !(s[namedClassEnd] === ':' && s[namedClassEnd + 1] === ']')) namedClassEnd++;
    }
    if (namedClassEnd + 1 >= s.length) return undefined;
    let name = s.slice(i + 2, namedClassEnd).join('');
    const negated = name.startsWith('^');
    if (negated) name = name.slice(1);
    const posix = Object.hasOwn(POSIX_CLASSES, name) ? POSIX_CLASSES[name] : undefined;
    if (!posix) return fail('invalid character class range');
    i = namedClassEnd + 2;
    return negated ? complement(posix) : posix;
  };

  /** Classes by their source text: `[^/]` comes once per `*` and `?` of the glob. */
  const classes = new Map<string, CharClass>();
  const parseClass = (): CharClass => {
    const from = i;
    const cls = parseClassItems();
    const text = s.slice(from, i).join('');
    let known = classes.get(text);
    if (!known) classes.set(text, (known = cls()));
    return known;
  };

  /** Parses a class at s[i]; returns how to build it (not built when the same text was seen). */
  const parseClassItems = (): (() => CharClass) => {
    i++; // [
    const negated = s[i] === '^';
    if (negated) i++;
    const items: ClassItems = { ranges: [], categories: [] };
    for (let first = true; first || s[i] !== ']'; first = false) {
      if (i >= s.length) fail('missing closing ]');
      if (s[i] === '[' && s[i + 1] === ':') {
        const named = namedClass();
        if (named) {
          items.ranges.push(...named);
          continue;
        }
      }
      const g = group();
      if (g) {
        items.ranges.push(...g.ranges);
        items.categories.push(...g.categories);
        continue;
      }
      const classChar = (): number => {
        if (i >= s.length) fail('missing closing ]');
        return s[i] === '\\' ? escapedChar() : s[i++]!.codePointAt(0)!;
      };
      const lo = classChar();
      let hi = lo;
      if (s[i] === '-' && i + 1 < s.length && s[i + 1] !== ']') {
        i++;
        hi = classChar();
        if (hi < lo) fail('invalid character class range');
      }
      items.ranges.push([lo, hi]);
    }
    i++; // ]
    return () => new CharClass(items.ranges, { categories: items.categories, negated });
  };

  while (i < s.length) {
    const ch = s[i]!;
    if (ch === '*' || ch === '+' || ch === '?') {
      if (last === 'none') fail('missing argument to repetition operator');
      if (last === 'repeat') fail('invalid nested repetition operator');
      const e = frame.last!;
      frame.last = ch === '*' ? b.star(e) : ch === '+' ? b.plus(e) : b.optional(e);
      i++;
      if (s[i] === '?') i++; // lazy: the same strings match
      last = 'repeat';
      continue;
    }
    const prev: 'none' | 'atom' | 'repeat' = last;
    last = 'atom';
    if (ch === '^' || ch === '$') {
      push(b.assert(ch === '^' ? Assertion.BeginText : Assertion.EndText));
      i++;
    } else if (ch === '(') {
      outer.push(frame);
      frame = { done: undefined, last: undefined };
      i++;
      last = 'none';
    } else if (ch === ')') {
      const parent = outer.pop();
      if (!parent) fail('unexpected )');
      const inner = close(frame);
      frame = parent!;
      push(inner);
      i++;
    } else if (ch === '.') {
      push(b.anyNotNewline());
      i++;
    } else if (ch === '[') {
      push(b.charClass(parseClass()));
    } else if (ch === '\\') {
      const next = s[i + 1];
      if (next !== undefined && Object.hasOwn(ASSERTIONS, next)) {
        push(b.assert(ASSERTIONS[next]!));
        i += 2;
      } else if (next === 'C') {
        fail('invalid escape sequence');
      } else if (next === 'Q') {
        // Every character up to `\E` (or the end) is a literal atom of its own.
        let end = i + 2;
        while (end < s.length && !(s[end] === '\\' && s[end + 1] === 'E')) end++;
        for (let k = i + 2; k < end; k++) push(b.char(s[k]!.codePointAt(0)!));
        if (end === i + 2) last = prev;
        i = end + 2;
      } else {
        const g = group();
        push(g ? b.charClass(new CharClass(g.ranges, { categories: g.categories })) : b.char(escapedChar()));
      }
    } else {
      push(b.char(ch.codePointAt(0)!));
      i++;
    }
  }
  if (outer.length > 0) fail('missing closing )');
  b.finish(close(frame));
  return new Program(b.build(), opts);
}
