/**
 * Splitting argument text into words the way BuildKit's parser does: on unquoted
 * whitespace, with quotes and escapes kept in the words (they are removed later by
 * variable expansion). "Whitespace" is Go's: `unicode.IsSpace` for words, and the
 * narrower `[\t\v\f\r ]` where BuildKit splits with a regular expression.
 */

/** Go's unicode.IsSpace (JavaScript's `\s` differs: it has U+FEFF and lacks U+0085). */
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/;

export function isGoSpace(ch: string): boolean {
  return GO_SPACE.test(ch);
}

/** strings.TrimLeftFunc(s, unicode.IsSpace). */
export function trimLeftGo(text: string): string {
  let i = 0;
  while (i < text.length && isGoSpace(text[i]!)) i++;
  return text.slice(i);
}

/** strings.TrimSpace. */
export function trimGo(text: string): string {
  let end = text.length;
  while (end > 0 && isGoSpace(text[end - 1]!)) end--;
  return trimLeftGo(text.slice(0, end));
}

/** BuildKit's `reWhitespace`: what separates FROM, EXPOSE and COPY words, and an ENV name from its value. */
export const TOKEN_WHITESPACE = /[\t\v\f\r ]+/;

/** BuildKit's parseWords: the escape token keeps the next character (not in single quotes); one at the very end is dropped. */
export function parseWords(text: string, escape: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (!quote && isGoSpace(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (ch === escape && quote !== "'") {
      if (i + 1 === text.length) continue;
      word += ch + text[++i];
      continue;
    }
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    }
    word += ch;
  }
  if (inWord && word !== '') words.push(word);
  return words;
}

/** Fields separated by whitespace, nothing else (BuildKit's parseStringsWhitespaceDelimited). */
export function fields(text: string): string[] {
  return text.split(TOKEN_WHITESPACE).filter((w) => w !== '');
}
