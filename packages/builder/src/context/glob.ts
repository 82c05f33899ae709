/**
 * COPY/ADD source wildcards: Go's filepath.Match, one path component at a time
 * (`*` and `?` never match '/', `[...]` classes with `^` negation and ranges, `\` escapes).
 */
import { BuildError } from '../errors.js';

export function hasWildcard(pattern: string): boolean {
  return /[*?[]/.test(pattern.replace(/\\./g, ''));
}

const cache = new Map<string, RegExp>();

/** Does `name` (one component) match `pattern` (one component)? Throws on a malformed pattern. */
export function matchComponent(pattern: string, name: string): boolean {
  let re = cache.get(pattern);
  if (!re) {
    re = compile(pattern);
    cache.set(pattern, re);
  }
  return re.test(name);
}

function compile(pattern: string): RegExp {
  let out = '^';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '\\') {
      if (i + 1 >= pattern.length) throw bad(pattern);
      out += escapeRe(pattern[++i]!);
    } else if (ch === '[') {
      let j = i + 1;
      let cls = '';
      if (pattern[j] === '^') {
        cls = '^';
        j++;
      }
      const take = (): string => {
        let c = pattern[j++];
        if (c === '\\') c = pattern[j++];
        if (c === undefined) throw bad(pattern);
        return c;
      };
      let n = 0;
      while (j < pattern.length && (pattern[j] !== ']' || n === 0)) {
        const lo = take();
        if (pattern[j] === '-' && pattern[j + 1] !== undefined && pattern[j + 1] !== ']') {
          j++;
          cls += `${classChar(lo)}-${classChar(take())}`;
        } else cls += classChar(lo);
        n++;
      }
      if (j >= pattern.length) throw bad(pattern);
      out += `[${cls}]`;
      i = j;
    } else out += escapeRe(ch);
  }
  return new RegExp(`${out}$`, 's');
}

function classChar(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

function escapeRe(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? `\\${ch}` : ch;
}

function bad(pattern: string): BuildError {
  return new BuildError('TSBUILD_INVALID_ARGUMENT', `syntax error in pattern ${JSON.stringify(pattern)}`);
}
