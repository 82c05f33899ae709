/**
 * Dockerfile variable expansion and word splitting, with BuildKit's rules
 * (`frontend/dockerfile/shell`): `$NAME`, `${NAME}`, `${NAME[:]-word}`,
 * `${NAME[:]+word}`, `${NAME[:]?message}`, `${NAME#pattern}`, `${NAME##pattern}`,
 * `${NAME%pattern}`, `${NAME%%pattern}`, `${NAME/pattern/repl}`,
 * `${NAME//pattern/repl}`, single and double quotes, and the escape token
 * (`\` or, with `# escape=\``, a backtick).
 *
 * Positional (`$1`, `$123`) and special (`$@ $* $# $? $- $$ $! $0`) parameters
 * are looked up like any other name, so they expand to nothing unless the
 * environment happens to define them. `$` followed by anything else stays a
 * literal `$`.
 *
 * Nothing is ever executed: `$(...)` and backticks are plain text.
 *
 *     const lex = new ShellLex();
 *     lex.processWord('${HOME:-/root}/"my dir"', envFromList(['HOME=/home/me']));
 *       // -> '/home/me/my dir'
 *     lex.processWords('a "b c" $X', envFromList(['X=d  e']));
 *       // -> ['a', 'b c', 'd', 'e']
 */
import { BuildError } from '../errors.js';

export type EnvLookup = (name: string) => string | undefined;

/** `matched`/`unmatched`: the names that were looked up and were set / not set. */
export interface ExpandResult {
  value: string;
  matched: Set<string>;
  unmatched: Set<string>;
}

/** A malformed word, or `${NAME?message}` with NAME unset. */
export class ExpansionError extends BuildError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('TSBUILD_EXPANSION', message, options);
    this.name = 'ExpansionError';
  }
}

/** A lookup over `K=V` entries: the last entry for a key wins; `K` alone sets K to ''. */
export function envFromList(list: readonly string[]): EnvLookup {
  const map = new Map<string, string>();
  for (const entry of list) {
    const eq = entry.indexOf('=');
    if (eq < 0) map.set(entry, '');
    else map.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return (name) => map.get(name);
}

export class ShellLex {
  readonly escapeToken: '\\' | '`';

  constructor(escapeToken: '\\' | '`' = '\\') {
    this.escapeToken = escapeToken;
  }

  /** Expands variables and removes quotes and escapes; whitespace is kept. */
  processWord(word: string, env: EnvLookup): string {
    return this.run(word, env).value;
  }

  processWordWithMatches(word: string, env: EnvLookup): ExpandResult {
    const { value, matched, unmatched } = this.run(word, env);
    return { value, matched, unmatched };
  }

  /**
   * Expands, then splits on whitespace that is neither quoted, escaped nor part
   * of the literal text between quotes. Whitespace coming from a variable's value
   * outside quotes does split. Empty quotes (`""`) produce no field.
   */
  processWords(word: string, env: EnvLookup): string[] {
    return this.run(word, env).words;
  }

  private run(word: string, env: EnvLookup): ExpandResult & { words: string[] } {
    const expander = new Expander(word, env, this.escapeToken);
    try {
      const { text, words } = expander.readUntil(undefined, false);
      return { value: text, words, matched: expander.matched, unmatched: expander.unmatched };
    } catch (err) {
      if (err instanceof Fault) throw new ExpansionError(`failed to process ${goQuote(word)}: ${err.message}`);
      throw err;
    }
  }
}

/** Internal: a failure deep in the word, wrapped with the whole word at the top. */
class Fault extends Error {}

const MISSING_BRACE = "syntax error: missing '}'";

/** One expansion run: a cursor over the word's code points plus what was looked up. */
class Expander {
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();
  private readonly chars: string[];
  private pos = 0;
  /** Keep escape tokens in the output (inside patterns, which have their own escapes). */
  private rawEscapes = false;

  constructor(
    word: string,
    private readonly env: EnvLookup,
    private readonly escape: string,
  ) {
    this.chars = Array.from(word);
    // Go's text/scanner drops a byte-order mark at the very start.
    if (this.chars[0] === '\uFEFF') this.pos = 1;
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    const c = this.chars[this.pos];
    if (c !== undefined) this.pos++;
    return c;
  }

  private atEnd(): boolean {
    return this.pos >= this.chars.length;
  }

  private lookup(name: string): string | undefined {
    const value = this.env(name);
    (value === undefined ? this.unmatched : this.matched).add(name);
    return value;
  }

  /** Reads up to `stop` (consumed) or the end of the word when `stop` is undefined. */
  readUntil(stop: string | undefined, rawEscapes: boolean): { text: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let text = '';
      const fields = new Fields();
      for (let c = this.peek(); c !== undefined; c = this.peek()) {
        if (c === stop) {
          this.next();
          return { text, words: fields.finish() };
        }
        if (c === "'" || c === '"') {
          const quoted = c === "'" ? this.singleQuoted() : this.doubleQuoted();
          text += quoted;
          fields.addQuoted(quoted);
          continue;
        }
        if (c === '$') {
          const expanded = this.dollar();
          text += expanded;
          fields.addExpanded(expanded);
          continue;
        }
        this.next();
        if (c !== this.escape) {
          text += c;
          fields.addChar(c);
          continue;
        }
        if (this.rawEscapes) {
          text += c;
          fields.addQuoted(c);
        }
        const escaped = this.next();
        if (escaped === undefined) break; // a trailing escape is dropped
        text += escaped;
        fields.addQuoted(escaped);
      }
      if (stop !== undefined) throw new Fault(`unexpected end of statement while looking for matching ${stop}`);
      return { text, words: fields.finish() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  /** Everything up to the next `'` is literal; there is no way to escape `'`. */
  private singleQuoted(): string {
    this.next();
    let out = '';
    for (;;) {
      const c = this.next();
      if (c === undefined) throw new Fault('unexpected end of statement while looking for matching single-quote');
      if (c === "'") return out;
      out += c;
    }
  }

  /** `$` expands; the escape token escapes only `"`, `$` and itself, else stays. */
  private doubleQuoted(): string {
    this.next();
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new Fault('unexpected end of statement while looking for matching double-quote');
      if (c === '"') {
        this.next();
        return out;
      }
      if (c === '$') {
        out += this.dollar();
        continue;
      }
      this.next();
      let ch = c;
      if (c === this.escape) {
        if (this.rawEscapes) out += c;
        const after = this.peek();
        if (after === undefined) continue;
        if (after === '"' || after === '$' || after === this.escape) ch = this.next() as string;
      }
      out += ch;
    }
  }

  /** At a `$`. */
  private dollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.readName();
      if (name === '') return '$';
      return this.lookup(name) ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === undefined) throw new Fault(MISSING_BRACE);
    if (first === '{' || first === '}' || first === ':') throw new Fault('syntax error: bad substitution');
    const name = this.readName();
    const op = this.next();
    switch (op) {
      case undefined:
        throw new Fault(MISSING_BRACE);
      case '}':
        return this.lookup(name) ?? '';
      case ':':
      case '-':
      case '+':
      case '?':
      case '#':
      case '%':
        return this.modifier(name, op);
      case '/':
        return this.substitute(name);
      default:
        throw new Fault(`unsupported modifier (${op}) in substitution`);
    }
  }

  /** `${NAME<op>word}` for the operators that take one word; `op` is just read. */
  private modifier(name: string, op: string): string {
    const colon = op === ':';
    const kind = colon ? this.next() : op;
    const label = colon ? `:${kind ?? '\uFFFD'}` : op;
    let word = this.readWordUntil('}', kind === '#' || kind === '%', MISSING_BRACE);
    const value = this.lookup(name);
    const empty = value === undefined || (colon && value === '');
    switch (kind) {
      case '-':
        return empty ? word : (value as string);
      case '+':
        return empty ? '' : word;
      case '?':
        if (value === undefined) throw new Fault(`${name}: ${word || 'is not allowed to be unset'}`);
        if (empty) throw new Fault(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      case '#':
      case '%': {
        const longest = word.startsWith(kind);
        if (longest) word = word.slice(1);
        const glob = compile(word);
        return kind === '#' ? trimPrefix(value ?? '', glob, longest) : trimSuffix(value ?? '', glob, longest);
      }
      default:
        throw new Fault(`unsupported modifier (${label}) in substitution`);
    }
  }

  /** `${NAME/pattern/repl}` and `${NAME//pattern/repl}`; the first `/` is read. */
  private substitute(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    const pattern = this.readWordUntil('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.readWordUntil('}', true, MISSING_BRACE);
    const value = this.lookup(name) ?? '';
    const glob = compile(pattern);
    return all ? replaceAll(value, glob, replacement) : replaceFirst(value, glob, replacement);
  }

  /** readUntil for a `${...}` part: running out of input gets `atEof` as the message. */
  private readWordUntil(stop: string, rawEscapes: boolean, atEof: string): string {
    try {
      return this.readUntil(stop, rawEscapes).text;
    } catch (err) {
      if (err instanceof Fault && this.atEnd()) throw new Fault(atEof);
      throw err;
    }
  }

  /** A run of digits, one special-parameter character, or a letter/digit/_ name. */
  private readName(): string {
    const first = this.peek();
    if (first === undefined) return '';
    if (isDigit(first)) {
      let name = '';
      for (let c = this.peek(); c !== undefined && isDigit(c); c = this.peek()) name += this.next();
      return name;
    }
    if ('@*#?-$!0'.includes(first)) return this.next() as string;
    let name = '';
    for (let c = this.peek(); c !== undefined && isNameChar(c); c = this.peek()) name += this.next();
    return name;
  }
}

/**
 * Field splitting state. Characters from the word's unquoted literal text and from
 * expansions split on whitespace; quoted or escaped text never does.
 */
class Fields {
  private readonly done: string[] = [];
  private current = '';

  addChar(c: string): void {
    if (isSpace(c)) this.flush();
    else this.current += c;
  }

  addExpanded(text: string): void {
    for (const c of text) this.addChar(c);
  }

  addQuoted(text: string): void {
    this.current += text;
  }

  /** An empty field (from `""` alone) is never emitted. */
  finish(): string[] {
    this.flush();
    return this.done;
  }

  private flush(): void {
    if (this.current !== '') this.done.push(this.current);
    this.current = '';
  }
}

/**
 * A shell pattern: `*` any run, `?` any one character, a backslash escapes `*`, `?`
 * and itself; a backslash before `}` or `/` is dropped (those needed it inside `${}`).
 * Like BuildKit's regular expressions, `*` and `?` never match a newline.
 */
type GlobToken = { kind: 'star' } | { kind: 'any' } | { kind: 'lit'; ch: string };

interface Glob {
  tokens: GlobToken[];
  /** The same pattern read backwards, to find suffixes. */
  reversed: GlobToken[];
}

function compile(pattern: string): Glob {
  const tokens: GlobToken[] = [];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '*') tokens.push({ kind: 'star' });
    else if (c === '?') tokens.push({ kind: 'any' });
    else if (c !== '\\') tokens.push({ kind: 'lit', ch: c });
    else if (chars[i + 1] === '}' || chars[i + 1] === '/') continue;
    else {
      const escaped = chars[++i];
      if (escaped !== '*' && escaped !== '?' && escaped !== '\\') {
        throw new Fault(`invalid pattern (${pattern}) in substitution: invalid escape '\\${escaped ?? '\uFFFD'}'`);
      }
      tokens.push({ kind: 'lit', ch: escaped });
    }
  }
  return { tokens, reversed: tokens.slice().reverse() };
}

/** Every end position of a match of `tokens` starting at `start`, ascending. */
function globEnds(tokens: readonly GlobToken[], chars: readonly string[], start: number): number[] {
  const n = chars.length;
  let reach = new Uint8Array(n + 1);
  reach[start] = 1;
  for (const token of tokens) {
    const next = new Uint8Array(n + 1);
    let any = false;
    let running = false; // inside a `*` run that started at a reachable position
    for (let q = start; q <= n; q++) {
      if (token.kind === 'star') {
        running ||= reach[q] === 1;
        if (running) next[q] = 1;
        any ||= running;
        if (chars[q] === '\n') running = false;
      } else if (reach[q] === 1 && q < n) {
        const c = chars[q];
        if (token.kind === 'any' ? c !== '\n' : c === token.ch) {
          next[q + 1] = 1;
          any = true;
        }
      }
    }
    if (!any) return [];
    reach = next;
  }
  const ends: number[] = [];
  for (let q = start; q <= n; q++) if (reach[q] === 1) ends.push(q);
  return ends;
}

/** The leftmost match at or after `from`, and the longest one there. */
function leftmostLongest(tokens: readonly GlobToken[], chars: readonly string[], from: number): { start: number; end: number } | undefined {
  const first = tokens[0];
  for (let start = from; start <= chars.length; start++) {
    if (first?.kind === 'lit' && chars[start] !== first.ch) continue;
    const ends = globEnds(tokens, chars, start);
    if (ends.length > 0) return { start, end: ends[ends.length - 1] };
  }
  return undefined;
}

function trimPrefix(value: string, glob: Glob, longest: boolean): string {
  const chars = Array.from(value);
  const ends = globEnds(glob.tokens, chars, 0);
  if (ends.length === 0) return value;
  return chars.slice(longest ? ends[ends.length - 1] : ends[0]).join('');
}

/** Matches the reversed glob against the reversed value: a suffix is a prefix there. */
function trimSuffix(value: string, glob: Glob, longest: boolean): string {
  const chars = Array.from(value);
  const ends = globEnds(glob.reversed, chars.slice().reverse(), 0);
  if (ends.length === 0) return value;
  const cut = longest ? ends[ends.length - 1] : ends[0];
  return chars.slice(0, chars.length - cut).join('');
}

/** The replacement is inserted as is. */
function replaceFirst(value: string, glob: Glob, replacement: string): string {
  const chars = Array.from(value);
  const m = leftmostLongest(glob.tokens, chars, 0);
  if (!m) return value;
  return chars.slice(0, m.start).join('') + replacement + chars.slice(m.end).join('');
}

/**
 * Replaces every match, scanning like Go's Regexp.ReplaceAllString (which BuildKit
 * uses): an empty match right after a match is skipped, and the replacement is a
 * Go template where `$0`/`${0}` is the match, `$$` a dollar, other references empty.
 */
function replaceAll(value: string, glob: Glob, replacement: string): string {
  const chars = Array.from(value);
  let out = '';
  let lastEnd = 0;
  for (let pos = 0; pos <= chars.length; ) {
    const m = leftmostLongest(glob.tokens, chars, pos);
    if (!m) break;
    out += chars.slice(lastEnd, m.start).join('');
    if (m.end > lastEnd || m.start === 0) out += expandTemplate(replacement, chars.slice(m.start, m.end).join(''));
    lastEnd = m.end;
    pos = pos + 1 > m.end ? pos + 1 : m.end;
  }
  return out + chars.slice(lastEnd).join('');
}

function expandTemplate(template: string, match: string): string {
  let out = '';
  let rest = template;
  for (let at = rest.indexOf('$'); at >= 0; at = rest.indexOf('$')) {
    out += rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const ref = /^(?:\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/u.exec(rest);
    if (!ref) {
      out += '$';
      continue;
    }
    if ((ref[1] ?? ref[2]) === '0') out += match;
    rest = rest.slice(ref[0].length);
  }
  return out + rest;
}

function isDigit(c: string): boolean {
  return /^\p{Nd}$/u.test(c);
}

function isNameChar(c: string): boolean {
  return c === '_' || /^[\p{L}\p{Nd}]$/u.test(c);
}

/** Go's unicode.IsSpace: like JS `\s` but with U+0085 and without U+FEFF. */
function isSpace(c: string): boolean {
  return c === '\u0085' || (c !== '\uFEFF' && /^\s$/u.test(c));
}

/** Go's %q, close enough for error messages. */
function goQuote(s: string): string {
  const named: Record<string, string> = {
    '"': '\\"', '\\': '\\\\', '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v',
  };
  let out = '"';
  for (const c of s) {
    const cp = c.codePointAt(0) as number;
    if (named[c] !== undefined) out += named[c];
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (c !== ' ' && /[\p{C}\p{Z}]/u.test(c)) {
      out += cp > 0xffff ? `\\U${cp.toString(16).padStart(8, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
    } else out += c;
  }
  return out + '"';
}
