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
 * Limits (BuildKit has none; these keep hostile input from exhausting the stack or
 * memory): `${...}` nested at most MAX_NESTING deep, and a word's expansion at most
 * MAX_EXPANSION characters, checked as it grows. Both fail with an ExpansionError.
 *
 *     const lex = new ShellLex();
 *     lex.processWord('${HOME:-/root}/"my dir"', envFromList(['HOME=/home/me']));
 *       // -> '/home/me/my dir'
 *     lex.processWords('a "b c" $X', envFromList(['X=d  e']));
 *       // -> ['a', 'b c', 'd', 'e']
 */
import { BuildError } from '../errors.js';
import { clip, Fields, goQuote, isDigit, isNameChar } from './shell-chars.js';
import { compileGlob, PatternFault, replaceAll, replaceFirst, trimPrefix, trimSuffix, type Glob } from './shell-pattern.js';

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
      if (err instanceof Fault) throw new ExpansionError(`failed to process ${goQuote(clip(word))}: ${err.message}`);
      throw err;
    }
  }
}

/** Deepest nesting of `${...}` inside one another. */
export const MAX_NESTING = 128;
/** Longest expansion of one word, in UTF-16 code units. */
export const MAX_EXPANSION = 1 << 20;

/** Internal: a failure deep in the word, wrapped with the whole word at the top. */
class Fault extends Error {}

/** A limit was reached: reported as is, never rephrased as a missing `}`. */
class LimitFault extends Fault {}

function checkLength(length: number): void {
  if (length > MAX_EXPANSION) throw new LimitFault(`expansion is longer than ${MAX_EXPANSION} characters`);
}

const MISSING_BRACE = "syntax error: missing '}'";

/** One expansion run: a cursor over the word's code points plus what was looked up. */
class Expander {
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();
  private readonly chars: string[];
  private pos = 0;
  /** Keep escape tokens in the output (inside patterns, which have their own escapes). */
  private rawEscapes = false;
  /** How many `${` are open. */
  private depth = 0;

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
          checkLength(text.length);
          fields.addQuoted(quoted);
          continue;
        }
        if (c === '$') {
          const expanded = this.dollar();
          text += expanded;
          checkLength(text.length);
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
        checkLength(out.length);
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
    if (this.depth >= MAX_NESTING) throw new LimitFault(`\${...} nested more than ${MAX_NESTING} deep`);
    this.depth++;
    try {
      return this.braced();
    } finally {
      this.depth--;
    }
  }

  /** After `${`. */
  private braced(): string {
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
        const glob = this.glob(word);
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
    const glob = this.glob(pattern);
    try {
      return all ? replaceAll(value, glob, replacement, MAX_EXPANSION) : replaceFirst(value, glob, replacement);
    } catch (err) {
      throw err instanceof PatternFault ? new LimitFault(err.message) : err;
    }
  }

  private glob(pattern: string): Glob {
    try {
      return compileGlob(pattern);
    } catch (err) {
      throw err instanceof PatternFault ? new Fault(err.message) : err;
    }
  }

  /** readUntil for a `${...}` part: running out of input gets `atEof` as the message. */
  private readWordUntil(stop: string, rawEscapes: boolean, atEof: string): string {
    try {
      return this.readUntil(stop, rawEscapes).text;
    } catch (err) {
      if (err instanceof Fault && !(err instanceof LimitFault) && this.atEnd()) throw new Fault(atEof);
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
