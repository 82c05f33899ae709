/**
 * The characters of a shell word as BuildKit's lexer classes them (Go's unicode rules),
 * the fields a word splits into, and how a word is quoted in an error message.
 */

/**
 * Field splitting state. Characters from the word's unquoted literal text and from
 * expansions split on whitespace; quoted or escaped text never does.
 */
export class Fields {
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

export function isDigit(c: string): boolean {
  return /^\p{Nd}$/u.test(c);
}

export function isNameChar(c: string): boolean {
  return c === '_' || /^[\p{L}\p{Nd}]$/u.test(c);
}

/** Go's unicode.IsSpace: like JS `\s` but with U+0085 and without U+FEFF. */
export function isSpace(c: string): boolean {
  const code = c.charCodeAt(0);
  if (code < 0x80) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  return c === '\u0085' || (c !== '\uFEFF' && /^\s$/u.test(c));
}

/** A word in a message: at most 200 characters of it (a hostile word can be 64 KiB). */
export function clip(word: string): string {
  const chars = Array.from(word);
  return chars.length > 200 ? `${chars.slice(0, 200).join('')}...` : word;
}

/** Go's %q, close enough for error messages. */
export function goQuote(s: string): string {
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
