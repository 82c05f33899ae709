/**
 * One `.dockerignore` pattern -> a path test, the way moby/patternmatcher compiles it:
 * literal patterns compare strings, `dir/**` is a prefix test, `**` + literal a suffix
 * test, and anything else becomes a Go RE2 regexp, run here by a matcher that does not
 * backtrack (re2-program.ts). Compiling and matching take time linear in the pattern
 * and in the path, like BuildKit's RE2.
 */
import type { CacheBudget } from './re2-dfa.js';
import { compileRe2, Re2SyntaxError } from './re2-parse.js';

/** A pattern that Go's filepath.Match or regexp.Compile would reject. */
export class PatternSyntaxError extends Error {}

/**
 * In the regexp, `*` is `[^/]*`, `?` is `[^/]`, `**` is any number of whole leading
 * segments (anything at the end), and `[`, `]` and `\x` pass through (so `\d` or
 * `[[:digit:]]` mean what they mean to RE2, as they do to BuildKit). `opts.budget` bounds
 * the matcher's cached states together with those of other patterns.
 */
export function compilePattern(text: string, opts: { budget?: CacheBudget } = {}): (p: string) => boolean {
  checkGlobSyntax(text);
  // Go's text/scanner drops a leading BOM, so only the regexp form loses it.
  const bom = text.startsWith('\uFEFF');
  const s = Array.from(bom ? text.slice(1) : text);
  let source = '^';
  let kind: 'exact' | 'prefix' | 'suffix' | 'regexp' = 'exact';
  for (let i = 0, step = 0; i < s.length; i++, step++) {
    const ch = s[i]!;
    if (ch === '*' && s[i + 1] === '*') {
      i++;
      if (s[i + 1] === '/') i++;
      if (i + 1 < s.length) {
        source += '(.*/)?';
        kind = 'regexp';
      } else if (kind === 'exact') {
        kind = 'prefix';
      } else {
        source += '.*';
        kind = 'regexp';
      }
      if (step === 0) kind = 'suffix';
    } else if (ch === '*' || ch === '?') {
      source += ch === '*' ? '[^/]*' : '[^/]';
      kind = 'regexp';
    } else if ('.+()|{}$'.includes(ch)) {
      source += `\\${ch}`;
    } else if (ch === '\\') {
      if (i + 1 < s.length) {
        source += `\\${s[++i]}`;
        kind = 'regexp';
      } else {
        source += '\\';
      }
    } else {
      source += ch;
      if (ch === '[' || ch === ']') kind = 'regexp';
    }
  }
  switch (kind) {
    case 'exact':
      return (p) => p === text;
    case 'prefix': {
      const prefix = text.slice(0, -2);
      return (p) => p.startsWith(prefix);
    }
    case 'suffix': {
      if (bom) return () => false; // Go slices the BOM's bytes apart: nothing can match
      const suffix = text.slice(2);
      return (p) => p.endsWith(suffix) || (suffix.startsWith('/') && p === suffix.slice(1));
    }
    case 'regexp': {
      let program;
      try {
        program = compileRe2(`${source}$`, opts);
      } catch (err) {
        if (err instanceof Re2SyntaxError) throw new PatternSyntaxError(err.message);
        throw err;
      }
      return (p) => program.search(p);
    }
  }
}

/** The syntax check of Go's filepath.Match: every `[...]` class well formed, no trailing `\`. */
function checkGlobSyntax(text: string): void {
  const s = Array.from(text);
  const bad = (): never => {
    throw new PatternSyntaxError('bad [...] class or trailing backslash');
  };
  // One class member: not empty, not '-' or ']', '\' escapes, and something must follow.
  const member = (i: number): number => {
    if (i >= s.length || s[i] === '-' || s[i] === ']') bad();
    if (s[i] === '\\' && ++i >= s.length) bad();
    if (i + 1 >= s.length) bad();
    return i + 1;
  };
  for (let i = 0; i < s.length; ) {
    if (s[i] === '[') {
      i++;
      if (s[i] === '^') i++;
      for (let n = 0; !(s[i] === ']' && n > 0); n++) {
        i = member(i);
        if (s[i] === '-') i = member(i + 1);
      }
      i++;
    } else if (s[i] === '\\') {
      if (i + 1 >= s.length) bad();
      i += 2;
    } else {
      i++;
    }
  }
}
