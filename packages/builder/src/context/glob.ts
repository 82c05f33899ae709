/**
 * COPY/ADD source wildcards: Go's filepath.Match, one path component at a time
 * (`*` and `?` never match '/', `[...]` classes with `^` negation and ranges, `\` escapes),
 * on code points. Matching backtracks only to the last `*` (as filepath.Match does), so
 * it takes at most pattern x name steps: `*a*a*a*a*a*a*a*b` cannot take exponential time.
 */
import { BuildError } from '../errors.js';

export function hasWildcard(pattern: string): boolean {
  return /[*?[]/.test(pattern.replace(/\\./g, ''));
}

type Token =
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'char'; cp: number }
  | { kind: 'class'; negated: boolean; ranges: [number, number][] };

const cache = new Map<string, Token[]>();

/** Does `name` (one component) match `pattern` (one component)? Throws on a malformed pattern. */
export function matchComponent(pattern: string, name: string): boolean {
  let tokens = cache.get(pattern);
  if (!tokens) {
    tokens = compile(pattern);
    cache.set(pattern, tokens);
  }
  return matchTokens(tokens, Array.from(name, (c) => c.codePointAt(0)!));
}

function compile(pattern: string): Token[] {
  const s = Array.from(pattern, (c) => c.codePointAt(0)!);
  const BACKSLASH = 0x5c;
  const tokens: Token[] = [];
  for (let i = 0; i < s.length; i++) {
    const cp = s[i]!;
    if (cp === 0x2a) tokens.push({ kind: 'star' });
    else if (cp === 0x3f) tokens.push({ kind: 'any' });
    else if (cp === BACKSLASH) {
      if (i + 1 >= s.length) throw bad(pattern);
      tokens.push({ kind: 'char', cp: s[++i]! });
    } else if (cp === 0x5b) {
      let j = i + 1;
      const negated = s[j] === 0x5e;
      if (negated) j++;
      const take = (): number => {
        let c = s[j++];
        if (c === BACKSLASH) c = s[j++];
        if (c === undefined) throw bad(pattern);
        return c;
      };
      const ranges: [number, number][] = [];
      // The first member may be `]`; a range whose ends are reversed matches nothing.
      while (j < s.length && (s[j] !== 0x5d || ranges.length === 0)) {
        const lo = take();
        if (s[j] === 0x2d && s[j + 1] !== undefined && s[j + 1] !== 0x5d) {
          j++;
          ranges.push([lo, take()]);
        } else ranges.push([lo, lo]);
      }
      if (j >= s.length) throw bad(pattern);
      tokens.push({ kind: 'class', negated, ranges });
      i = j;
    } else tokens.push({ kind: 'char', cp });
  }
  return tokens;
}

function matchOne(token: Token, cp: number): boolean {
  switch (token.kind) {
    case 'any':
      return cp !== 0x2f;
    case 'char':
      return token.cp === cp;
    case 'class':
      return token.ranges.some(([lo, hi]) => lo <= cp && cp <= hi) !== token.negated;
    default:
      return false;
  }
}

/** Greedy, going back only to just after the last `*` seen (it can take one more character). */
function matchTokens(tokens: Token[], name: number[]): boolean {
  let t = 0;
  let n = 0;
  let star = -1;
  let starName = 0;
  while (n < name.length) {
    const token = tokens[t];
    if (token?.kind === 'star') {
      star = t++;
      starName = n;
    } else if (token !== undefined && matchOne(token, name[n]!)) {
      t++;
      n++;
    } else if (star >= 0 && name[starName] !== 0x2f) {
      t = star + 1;
      n = ++starName;
    } else {
      return false;
    }
  }
  while (tokens[t]?.kind === 'star') t++;
  return t === tokens.length;
}

function bad(pattern: string): BuildError {
  return new BuildError('TSBUILD_INVALID_ARGUMENT', `syntax error in pattern ${JSON.stringify(pattern)}`);
}
