/**
 * Splitting argument text into words the way BuildKit's parser does: on unquoted
 * whitespace, with quotes and escapes kept in the words (they are removed later by
 * variable expansion).
 */
export function parseWords(text: string, escape: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (!quote && /\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (ch === escape && i + 1 < text.length && quote !== "'") {
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
  if (inWord) words.push(word);
  return words;
}

/** Fields separated by whitespace, nothing else (BuildKit's parseStringsWhitespaceDelimited). */
export function fields(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}
