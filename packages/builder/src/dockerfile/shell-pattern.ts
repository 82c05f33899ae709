/**
 * The shell patterns of `${NAME#pattern}`, `${NAME%pattern}` and `${NAME/pattern/repl}`:
 * `*` any run, `?` any one character, a backslash escapes `*`, `?` and itself; a
 * backslash before `}` or `/` is dropped (those needed it inside `${}`). Like BuildKit's
 * regular expressions, `*` and `?` never match a newline.
 *
 * Matching simulates every way through the pattern at once, position by position, so
 * a search costs at most pattern x value steps (never exponential, never a start
 * position times a scan of the rest). Characters are code points.
 */

/** A malformed pattern, or a result longer than allowed; the message says which. */
export class PatternFault extends Error {}

type Token = { kind: 'star' } | { kind: 'any' } | { kind: 'lit'; ch: string };

export interface Glob {
  tokens: Token[];
  /** The same pattern read backwards, to find suffixes. */
  reversed: Token[];
}

export function compileGlob(pattern: string): Glob {
  const tokens: Token[] = [];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') {
      if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' }); // `**` is `*`
    } else if (c === '?') tokens.push({ kind: 'any' });
    else if (c !== '\\') tokens.push({ kind: 'lit', ch: c });
    else if (chars[i + 1] === '}' || chars[i + 1] === '/') continue;
    else {
      const escaped = chars[++i];
      if (escaped !== '*' && escaped !== '?' && escaped !== '\\') {
        throw new PatternFault(`invalid pattern (${pattern}) in substitution: invalid escape '\\${escaped ?? '\uFFFD'}'`);
      }
      tokens.push({ kind: 'lit', ch: escaped });
    }
  }
  return { tokens, reversed: tokens.slice().reverse() };
}

/**
 * Threads through the pattern: `start[k]` is the earliest start of a thread about to read
 * token k (-1: none; k = tokens.length: it read them all), `list` the k's in use. A later
 * start at the same token is dropped: it can only end where the earlier one ends.
 */
class Threads {
  readonly start: Int32Array;
  readonly list: Int32Array;
  size = 0;

  constructor(readonly tokens: readonly Token[]) {
    this.start = new Int32Array(tokens.length + 1).fill(-1);
    this.list = new Int32Array(tokens.length + 1);
  }

  clear(): void {
    for (let i = 0; i < this.size; i++) this.start[this.list[i]!] = -1;
    this.size = 0;
  }

  /** A thread before token k; stars match the empty run, so it is also after them. */
  enter(k: number, start: number): void {
    for (; k <= this.tokens.length; k++) {
      const known = this.start[k]!;
      if (known >= 0 && known <= start) return;
      if (known < 0) this.list[this.size++] = k;
      this.start[k] = start;
      if (this.tokens[k]?.kind !== 'star') return;
    }
  }

  /** Reads `c` into `next`, ignoring threads that started after `maxStart`; false when none is left. */
  advance(next: Threads, c: string, maxStart: number): boolean {
    next.clear();
    for (let i = 0; i < this.size; i++) {
      const k = this.list[i]!;
      const start = this.start[k]!;
      const token = this.tokens[k];
      if (token === undefined || start > maxStart) continue;
      if (token.kind === 'lit' ? token.ch !== c : c === '\n') continue;
      next.enter(token.kind === 'star' ? k : k + 1, start);
    }
    return next.size > 0;
  }

  /** Start of a thread that read the whole pattern, or -1. */
  get done(): number {
    return this.start[this.tokens.length]!;
  }
}

/** The shortest and the longest match starting at 0, if any. */
function prefixEnds(tokens: readonly Token[], chars: readonly string[]): { shortest: number; longest: number } | undefined {
  let at = new Threads(tokens);
  let next = new Threads(tokens);
  let found: { shortest: number; longest: number } | undefined;
  at.enter(0, 0);
  for (let q = 0; ; q++) {
    if (at.done >= 0) found = { shortest: found?.shortest ?? q, longest: q };
    if (q === chars.length || !at.advance(next, chars[q]!, 0)) return found;
    [at, next] = [next, at];
  }
}

/** The leftmost match at or after `from`, and the longest one there. One pass over the value. */
function leftmostLongest(tokens: readonly Token[], chars: readonly string[], from: number): { start: number; end: number } | undefined {
  let at = new Threads(tokens);
  let next = new Threads(tokens);
  let best: { start: number; end: number } | undefined;
  for (let q = from; ; q++) {
    if (best === undefined) at.enter(0, q); // a new start at every position until a match
    const done = at.done;
    if (done >= 0 && (best === undefined || done < best.start || (done === best.start && q > best.end))) best = { start: done, end: q };
    if (q === chars.length) return best;
    if (!at.advance(next, chars[q]!, best?.start ?? q) && best !== undefined) return best;
    [at, next] = [next, at];
  }
}

/** `${NAME#pattern}` (`longest`: `##`): the value without its shortest (longest) matching prefix. */
export function trimPrefix(value: string, glob: Glob, longest: boolean): string {
  const chars = Array.from(value);
  const ends = prefixEnds(glob.tokens, chars);
  if (!ends) return value;
  return chars.slice(longest ? ends.longest : ends.shortest).join('');
}

/** `${NAME%pattern}` (`%%`): the reversed glob against the reversed value; a suffix is a prefix there. */
export function trimSuffix(value: string, glob: Glob, longest: boolean): string {
  const chars = Array.from(value);
  const ends = prefixEnds(glob.reversed, chars.slice().reverse());
  if (!ends) return value;
  return chars.slice(0, chars.length - (longest ? ends.longest : ends.shortest)).join('');
}

/** `${NAME/pattern/repl}`: the replacement is inserted as is. */
export function replaceFirst(value: string, glob: Glob, replacement: string): string {
  const chars = Array.from(value);
  const m = leftmostLongest(glob.tokens, chars, 0);
  if (!m) return value;
  return chars.slice(0, m.start).join('') + replacement + chars.slice(m.end).join('');
}

/**
 * `${NAME//pattern/repl}`: replaces every match, scanning like Go's Regexp.ReplaceAllString
 * (which BuildKit uses): an empty match right after a match is skipped, and the
 * replacement is a Go template where `$0`/`${0}` is the match, `$$` a dollar, other
 * references empty. Fails as soon as the result is longer than `maxLength`.
 */
export function replaceAll(value: string, glob: Glob, replacement: string, maxLength: number): string {
  const chars = Array.from(value);
  const template = new Template(replacement);
  const parts: string[] = [];
  let length = 0;
  const add = (text: string): void => {
    length += text.length;
    if (length > maxLength) throw new PatternFault(`expansion is longer than ${maxLength} characters`);
    parts.push(text);
  };
  let lastEnd = 0;
  for (let pos = 0; pos <= chars.length; ) {
    const m = leftmostLongest(glob.tokens, chars, pos);
    if (!m) break;
    add(chars.slice(lastEnd, m.start).join(''));
    if (m.end > lastEnd || m.start === 0) template.expand(chars.slice(m.start, m.end).join(''), add);
    lastEnd = m.end;
    pos = pos + 1 > m.end ? pos + 1 : m.end;
  }
  add(chars.slice(lastEnd).join(''));
  return parts.join('');
}

/** A Go replacement template, parsed once: literal text and the places of the match. */
class Template {
  /** Literal pieces; `null` stands for the match. Adjacent literals are merged. */
  readonly #pieces: (string | null)[] = [];
  /** The expansion for an empty match (most matches of some patterns). */
  readonly #withEmpty: string;

  constructor(template: string) {
    let literal = '';
    let rest = template;
    for (let at = rest.indexOf('$'); at >= 0; at = rest.indexOf('$')) {
      literal += rest.slice(0, at);
      rest = rest.slice(at + 1);
      if (rest.startsWith('$')) {
        literal += '$';
        rest = rest.slice(1);
        continue;
      }
      const ref = /^(?:\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/u.exec(rest);
      if (!ref) {
        literal += '$';
        continue;
      }
      if ((ref[1] ?? ref[2]) === '0') {
        this.#pieces.push(literal, null);
        literal = '';
      }
      rest = rest.slice(ref[0].length);
    }
    this.#pieces.push(literal + rest);
    this.#withEmpty = this.#pieces.join('');
  }

  /** Appends the expansion for `match` through `add`. */
  expand(match: string, add: (text: string) => void): void {
    if (match === '') add(this.#withEmpty);
    else for (const piece of this.#pieces) add(piece ?? match);
  }
}
