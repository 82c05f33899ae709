/**
 * Heredoc markers (`RUN <<EOF`, `COPY <<-'EOT' /dst`), the word grammar that both the
 * parser (which bodies to read) and COPY/ADD (which sources are heredocs) use. It follows
 * BuildKit's ParseHeredoc and the part of its shell lexer that the detection runs.
 */
import { BuildError } from '../../errors.js';
import { isGoSpace } from './words.js';

export interface HeredocMarker {
  name: string;
  expand: boolean;
  chomp: boolean;
}

const HEREDOC_WORD = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/;

/**
 * One word -> its heredoc marker (BuildKit's ParseHeredoc): `<<EOF`, `<<-EOF`, `<< EOF`,
 * `3<<EOF`, with the delimiter quoted in whole or part (`<<'EOF'`, `<<EO"F"`: no
 * expansion). undefined when the word is no marker (`<<`, `<EOF`, `<<<EOF`, `<<EOF sh`);
 * a BuildError when its quotes do not close (`<<'EOF`).
 */
export function parseHeredocWord(word: string): HeredocMarker | undefined {
  const m = HEREDOC_WORD.exec(word);
  if (!m || m[3] === '') return undefined;
  const plain = new HeredocLexer(m[3]!, false, false).split();
  if (plain.fault) throw new BuildError('TSBUILD_DOCKERFILE_SYNTAX', `invalid heredoc ${word}: ${plain.fault}`);
  if (plain.words.length !== 1) return undefined;
  // The delimiter was quoted iff lexing with the quotes kept leaves more quote characters.
  const quotes = (s: string | undefined) => (s ?? '').replace(/[^'"]/g, '').length;
  const raw = new HeredocLexer(m[3]!, true, false).split();
  const name = plain.words[0]!;
  return { name, expand: quotes(name) === quotes(raw.words[0]), chomp: m[2] === '-' };
}

/** A lexing failure: an unclosed quote or `${`. */
class Fault extends Error {}

/**
 * The part of BuildKit's shell lexer that heredoc detection runs (`\` escapes, quotes,
 * `$` references left as written since no variable is set, `<<` plus blanks kept
 * together). With rawQuotes/rawEscapes the quote and escape characters stay in the words.
 */
export class HeredocLexer {
  private readonly chars: string[];
  private pos = 0;
  private word = '';
  private words: string[] = [];
  /** Where the word being read starts in the text. */
  private wordStart = 0;

  constructor(
    text: string,
    private readonly rawQuotes: boolean,
    private rawEscapes: boolean,
  ) {
    this.chars = Array.from(text);
  }

  /** The words, or the fault and the text from the start of the word being read when it happened. */
  split(): { words: string[]; fault?: string; partial?: string } {
    try {
      this.read(undefined, this.rawEscapes, true);
      if (this.word !== '') this.words.push(this.word);
      return { words: this.words };
    } catch (err) {
      if (err instanceof Fault) return { words: [], fault: err.message, partial: this.chars.slice(this.wordStart).join('') };
      throw err;
    }
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    return this.pos < this.chars.length ? this.chars[this.pos++] : undefined;
  }

  private add(text: string, split: boolean): void {
    if (!split) {
      this.word += text;
      return;
    }
    for (const ch of text) {
      if (!isGoSpace(ch)) this.word += ch;
      else if (this.word !== '') {
        this.words.push(this.word);
        this.word = '';
      }
    }
  }

  /** Up to `stop` (consumed) or the end; `top`: this is the line itself, so build words. */
  private read(stop: string | undefined, rawEscapes: boolean, top = false): string {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let text = '';
      for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
        if (top && this.word === '') this.wordStart = this.pos;
        if (ch === stop) {
          this.pos++;
          return text;
        }
        const special = ch === "'" ? this.single() : ch === '"' ? this.double() : ch === '$' ? this.dollar() : ch === '<' ? this.angle() : undefined;
        if (special !== undefined) {
          text += special;
          if (top) this.add(special, ch === '$');
          continue;
        }
        this.pos++;
        if (ch === '\\') {
          if (this.rawEscapes) {
            text += ch;
            if (top) this.add(ch, false);
          }
          const escaped = this.next();
          if (escaped === undefined) break;
          text += escaped;
          if (top) this.add(escaped, false);
          continue;
        }
        text += ch;
        if (top) this.add(ch, true);
      }
      if (stop !== undefined) throw new Fault(`unexpected end of statement while looking for matching ${stop}`);
      return text;
    } finally {
      this.rawEscapes = saved;
    }
  }

  private single(): string {
    this.pos++;
    let out = this.rawQuotes ? "'" : '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined) throw new Fault('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return this.rawQuotes ? out + ch : out;
      out += ch;
    }
  }

  private double(): string {
    this.pos++;
    let out = this.rawQuotes ? '"' : '';
    for (;;) {
      let ch = this.peek();
      if (ch === undefined) throw new Fault('unexpected end of statement while looking for matching double-quote');
      if (ch === '"') {
        this.pos++;
        return this.rawQuotes ? out + ch : out;
      }
      if (ch === '$') {
        out += this.dollar();
        continue;
      }
      this.pos++;
      if (ch === '\\') {
        if (this.rawEscapes) out += ch;
        const after = this.peek();
        if (after === undefined) continue;
        if (after === '"' || after === '$' || after === '\\') ch = this.next()!;
      }
      out += ch;
    }
  }

  /** `$NAME`, `${...}`: nothing is set, so the reference stays as written. */
  private dollar(): string {
    this.pos++;
    if (this.peek() !== '{') return `$${this.name()}`;
    this.pos++;
    const first = this.peek();
    if (first === undefined) throw new Fault("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new Fault('syntax error: bad substitution');
    const name = this.name();
    const op = this.next();
    if (op === '}') return `\${${name}}`;
    if (op !== undefined && ':+-?#%'.includes(op)) {
      const modifier = op === ':' ? this.next() : op;
      const word = this.read('}', modifier === '#' || modifier === '%');
      return `\${${name}${op === ':' ? op + (modifier ?? '') : op}${word}}`;
    }
    if (op === '/') {
      if (this.peek() === '/') this.pos++;
      const pattern = this.read('/', true);
      return `\${${name}/${pattern}/${this.read('}', true)}}`;
    }
    throw new Fault(`unsupported modifier (${op ?? ''}) in substitution`);
  }

  private name(): string {
    let name = '';
    for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
      if (name === '' && /\p{Nd}/u.test(ch)) {
        while (this.peek() !== undefined && /\p{Nd}/u.test(this.peek()!)) name += this.next();
        return name;
      }
      if (name === '' && '@*#?-$!0'.includes(ch)) return this.next()!;
      if (!/[\p{L}\p{Nd}_]/u.test(ch)) break;
      name += this.next();
    }
    return name;
  }

  /** `<<` and the blanks after it stay one word (`<< EOF`). */
  private angle(): string {
    this.pos++;
    if (this.peek() !== '<') return '<';
    this.pos++;
    let out = '<<';
    while (this.peek() === ' ' || this.peek() === '\t') out += this.next();
    return out;
  }
}
