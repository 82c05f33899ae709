/**
 * `.dockerignore` with BuildKit's semantics: the line format of moby/patternmatcher's
 * `ignorefile.ReadAll`, the pattern language of `patternmatcher` (a glob turned into a
 * Go RE2 regexp, which is translated here to an equivalent JavaScript RegExp), and the
 * way fsutil's filtering walker applies the patterns while it sends a build context.
 *
 * Walk a context like this (BuildKit's sender does the same):
 *
 * ```ts
 * const { matcher } = await loadDockerignore(contextDir, dockerfilePath);
 * // pre-order walk, parents before children:
 * if (!matcher.excludes(rel)) emit(rel);           // plus any ancestor dir not yet emitted
 * else if (isDir && matcher.canSkipDir(rel)) skip;  // nothing below can come back
 * else if (isDir) descend without emitting rel;     // emit it later only if a child is kept
 * ```
 *
 * An excluded directory that still holds a re-included (`!`) descendant appears in the
 * context only because of that descendant; its other children stay excluded.
 */
import { lstat, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { BuildError } from '../errors.js';

export interface IgnorePattern {
  /** The cleaned pattern, without the leading `!`. */
  text: string;
  /** A `!` line: re-includes what earlier lines excluded. */
  exclusion: boolean;
  /** 1-based line in the ignore file. */
  line: number;
}

const DEFAULT_NAME = '.dockerignore';
/** bufio.Scanner's limit: a longer line makes BuildKit fail to read the file. */
const MAX_LINE_BYTES = 64 * 1024;

/**
 * Parse .dockerignore text: UTF-8 BOM stripped, lines starting with `#` skipped (before
 * trimming, so `  # x` is a pattern), lines trimmed, empty ones skipped, patterns cleaned
 * like Go's filepath.Clean and a leading '/' removed. `!` alone and malformed patterns are
 * errors naming `file:line`.
 */
export function parseDockerignore(text: string, file: string = DEFAULT_NAME): IgnorePattern[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const patterns: IgnorePattern[] = [];
  lines.forEach((raw, index) => {
    const line = index + 1;
    const fail = (message: string): never => {
      throw new BuildError('TSBUILD_DOCKERIGNORE', message, { location: { file, startLine: line, endLine: line } });
    };
    if (Buffer.byteLength(raw) >= MAX_LINE_BYTES) fail(`line longer than ${MAX_LINE_BYTES - 1} bytes`);
    if (index === 0 && raw.startsWith('\uFEFF')) raw = raw.slice(1);
    if (raw.startsWith('#')) return;
    let body = goTrimSpace(raw);
    if (body === '') return;
    const exclusion = body.startsWith('!');
    if (exclusion) body = goTrimSpace(body.slice(1));
    if (body !== '') {
      body = cleanPath(body);
      if (body.length > 1 && body.startsWith('/')) body = body.slice(1);
    }
    // The matcher cleans the line once more, `!` included: `!/` becomes `!`.
    const cleaned = cleanPath(exclusion ? `!${body}` : body);
    if (cleaned === '!') fail('illegal exclusion pattern: "!"');
    const pattern = exclusion ? cleaned.slice(1) : cleaned;
    try {
      compilePattern(pattern);
    } catch (err) {
      fail(`syntax error in pattern ${JSON.stringify(pattern)}: ${(err as Error).message}`);
    }
    patterns.push({ text: pattern, exclusion, line });
  });
  return patterns;
}

/** Per-pattern "matched this path or an ancestor" flags, as fsutil keeps them per directory. */
type MatchRecord = boolean[];

/**
 * Decides which context paths a set of patterns excludes. Later patterns override earlier
 * ones; a pattern matches a path when it matches the path or one of its parent
 * directories. This follows the walker BuildKit uses to send a context, which remembers
 * per directory which patterns matched it: a pattern that was irrelevant at a directory
 * (an inclusion while the directory was already excluded) is not looked at again for
 * that directory's descendants, so `a`, `!a/b`, `a` keeps `a/b`.
 */
export class IgnoreMatcher {
  readonly empty: boolean;
  readonly #patterns: { exclusion: boolean; test: (p: string) => boolean }[];
  readonly #hasExclusions: boolean;
  /** `text + '/'` of each `!` pattern; undefined when one of them is a glob. */
  readonly #exceptionPrefixes: string[] | undefined;
  readonly #records = new Map<string, MatchRecord>();

  constructor(patterns: IgnorePattern[]) {
    this.empty = patterns.length === 0;
    this.#patterns = patterns.map((p) => ({ exclusion: p.exclusion, test: compilePattern(p.text) }));
    const exceptions = patterns.filter((p) => p.exclusion).map((p) => withoutTrailingGlob(p.text));
    this.#hasExclusions = exceptions.length > 0;
    const globbed = exceptions.some((p) => /[*[\]?^\\]/.test(p));
    this.#exceptionPrefixes = globbed ? undefined : exceptions.map((p) => `${p}/`);
  }

  /** Is this context-relative path (forward slashes, no leading './' or '/') excluded? */
  excludes(relPath: string): boolean {
    if (this.empty || relPath === '' || relPath === '.') return false;
    return this.#evaluate(relPath).excluded;
  }

  /**
   * For a directory that `excludes()` says is excluded: may the walker skip everything
   * below it? Yes when no `!` pattern could re-include a descendant. Like BuildKit, a
   * `!` pattern with a wildcard (other than a trailing `/*` or `/**`) forbids skipping.
   */
  canSkipDir(relDir: string): boolean {
    if (!this.#hasExclusions) return true;
    if (this.#exceptionPrefixes === undefined) return false;
    const dirSlash = `${relDir}/`;
    return !this.#exceptionPrefixes.some((p) => p.startsWith(dirSlash));
  }

  #evaluate(relPath: string): { excluded: boolean; record: MatchRecord } {
    const slash = relPath.lastIndexOf('/');
    const parent = slash > 0 ? this.#recordOf(relPath.slice(0, slash)) : undefined;
    const record: MatchRecord = new Array<boolean>(this.#patterns.length).fill(false);
    let excluded = false;
    this.#patterns.forEach((pattern, i) => {
      let matched = parent?.[i] ?? false;
      if (!matched) {
        // An inclusion cannot change an excluded path, nor an exclusion an included one.
        if (pattern.exclusion !== excluded) return;
        matched = pattern.test(relPath);
      }
      record[i] = matched;
      if (matched) excluded = !pattern.exclusion;
    });
    return { excluded, record };
  }

  #recordOf(dir: string): MatchRecord {
    let record = this.#records.get(dir);
    if (record === undefined) {
      record = this.#evaluate(dir).record;
      if (this.#records.size >= 50_000) this.#records.clear();
      this.#records.set(dir, record);
    }
    return record;
  }
}

/**
 * Read the ignore file for a build: `<dockerfile>.dockerignore` next to the Dockerfile
 * wins over `<context>/.dockerignore`, even when empty (BuildKit rule). Symlinks are
 * resolved inside the directory the file is read from, as BuildKit reads it from a
 * synced copy of that directory. A missing ignore file, or one that is not a regular
 * file, counts as absent; other read errors fail the build. Parse errors name the file
 * by its base name (`Dockerfile.dockerignore:2: ...`).
 */
export async function loadDockerignore(
  contextDir: string,
  dockerfilePath: string,
): Promise<{ matcher: IgnoreMatcher; file?: string }> {
  const candidates = [
    { root: path.dirname(dockerfilePath), name: `${path.basename(dockerfilePath)}.dockerignore` },
    { root: contextDir, name: DEFAULT_NAME },
  ];
  for (const { root, name } of candidates) {
    const text = await readInRoot(root, name);
    if (text !== undefined) {
      return { matcher: new IgnoreMatcher(parseDockerignore(text, name)), file: path.join(root, name) };
    }
  }
  return { matcher: new IgnoreMatcher([]) };
}

async function readInRoot(root: string, name: string): Promise<string | undefined> {
  const absent = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ELOOP']);
  try {
    let pending = name.split('/');
    const resolved: string[] = [];
    for (let hops = 0; pending.length > 0; ) {
      const part = pending.shift()!;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        resolved.pop();
        continue;
      }
      const full = path.join(root, ...resolved, part);
      if (!(await lstat(full)).isSymbolicLink()) {
        resolved.push(part);
        continue;
      }
      if (++hops > 255) return undefined;
      const target = await readlink(full);
      if (target.startsWith('/')) resolved.length = 0;
      pending = [...target.split('/'), ...pending];
    }
    return (await readFile(path.join(root, ...resolved))).toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined && absent.has(code)) return undefined;
    throw new BuildError('TSBUILD_DOCKERIGNORE', `cannot read ${name}: ${(err as Error).message}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------
// Go string and path helpers

const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const GO_TRIM = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, 'g');

/** strings.TrimSpace: Go's white space differs from JavaScript's (U+0085 yes, U+FEFF no). */
function goTrimSpace(s: string): string {
  return s.replace(GO_TRIM, '');
}

/** filepath.Clean for '/' paths. */
function cleanPath(p: string): string {
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') out.push(part);
    else if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (!rooted) out.push('..');
  }
  const joined = out.join('/');
  return rooted ? `/${joined}` : joined || '.';
}

function withoutTrailingGlob(text: string): string {
  let t = text;
  if (t.endsWith('/**')) t = t.slice(0, -3);
  if (t.endsWith('/*')) t = t.slice(0, -2);
  return t;
}

// ---------------------------------------------------------------------------
// Patterns

/**
 * Compile one cleaned pattern to a path test, the way patternmatcher does: literal
 * patterns compare strings, `dir/**` is a prefix test, `**` + literal a suffix test, and
 * anything else becomes an anchored regexp in which `*` is `[^/]*`, `?` is `[^/]`, `**` is
 * any number of whole leading segments (anything at the end), and `[`, `]` and `\x` pass
 * through to the regexp. Throws when Go's filepath.Match or regexp.Compile would reject
 * the pattern.
 */
function compilePattern(text: string): (p: string) => boolean {
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
      const re = re2ToRegExp(`${source}$`);
      return (p) => re.test(p);
    }
  }
}

/** The syntax check of Go's filepath.Match: every `[...]` class well formed, no trailing `\`. */
function checkGlobSyntax(text: string): void {
  const s = Array.from(text);
  const bad = (): never => {
    throw new Error('bad [...] class or trailing backslash');
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

// ---------------------------------------------------------------------------
// RE2 -> JavaScript

type Ranges = [number, number][];

const MAX_RUNE = 0x10ffff;
const r = (a: string, b = a): [number, number] => [a.codePointAt(0)!, b.codePointAt(0)!];
const PERL_CLASSES: Record<string, Ranges> = {
  d: [r('0', '9')],
  s: [r('\t', '\n'), r('\f', '\r'), r(' ')],
  w: [r('0', '9'), r('A', 'Z'), r('_'), r('a', 'z')],
};
const POSIX_CLASSES: Record<string, Ranges> = {
  alnum: [r('0', '9'), r('A', 'Z'), r('a', 'z')],
  alpha: [r('A', 'Z'), r('a', 'z')],
  ascii: [[0, 0x7f]],
  blank: [r('\t'), r(' ')],
  cntrl: [[0, 0x1f], [0x7f, 0x7f]],
  digit: [r('0', '9')],
  graph: [[0x21, 0x7e]],
  lower: [r('a', 'z')],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [r('\t', '\r'), r(' ')],
  upper: [r('A', 'Z')],
  word: [r('0', '9'), r('A', 'Z'), r('_'), r('a', 'z')],
  xdigit: [r('0', '9'), r('A', 'F'), r('a', 'f')],
};

function complement(ranges: Ranges): Ranges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= MAX_RUNE) out.push([next, MAX_RUNE]);
  return out;
}

const u = (cp: number): string => `\\u{${cp.toString(16)}}`;
const classSource = (ranges: Ranges, extra = '', negate = false): string =>
  `[${negate ? '^' : ''}${ranges.map(([lo, hi]) => (lo === hi ? u(lo) : `${u(lo)}-${u(hi)}`)).join('')}${extra}]`;

/**
 * Translate the RE2 source built by compilePattern into a JavaScript RegExp (flag `u`)
 * that accepts the same strings, throwing where Go's regexp.Compile fails. Covers what a
 * pattern can put there: classes with ranges, POSIX `[:name:]`, Perl `\d\s\w` and
 * Unicode `\pL` groups, Go escapes (`\b` is a word boundary, `\x41`, octal, `\Q...\E`).
 */
function re2ToRegExp(src: string): RegExp {
  const s = Array.from(src);
  let i = 0;
  let out = '';
  let depth = 0;
  let last: 'none' | 'atom' | 'repeat' = 'none';
  const fail = (what: string): never => {
    throw new Error(what);
  };

  // A single escaped character (after the backslash was seen at s[i]), Go's parseEscape.
  const escapedChar = (): number => {
    const c = s[i + 1];
    if (c === undefined) fail('trailing backslash');
    i += 2;
    const code = c!.codePointAt(0)!;
    if (code < 0x80 && !/[0-9A-Za-z]/.test(c!)) return code;
    const octal = (x: string | undefined): boolean => x !== undefined && x >= '0' && x <= '7';
    if (c === '0' || (c! >= '1' && c! <= '7' && octal(s[i]))) {
      let v = code - 0x30;
      for (let n = 0; n < 2 && octal(s[i]); n++) v = v * 8 + s[i++]!.codePointAt(0)! - 0x30;
      return v;
    }
    if (c === 'x') {
      // Two hex digits: the `\x{...}` form cannot be written, `{` reaches the regexp escaped.
      const digits = `${s[i] ?? ''}${s[i + 1] ?? ''}`;
      if (!/^[0-9A-Fa-f]{2}$/.test(digits)) fail('invalid escape sequence');
      i += 2;
      return parseInt(digits, 16);
    }
    const simple: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };
    if (Object.hasOwn(simple, c!)) return simple[c!]!;
    return fail('invalid escape sequence');
  };

  // A `\d`-style or `\pL` group at s[i]: its ranges, or a JS class item.
  const group = (): { ranges: Ranges; extra: string } | undefined => {
    if (s[i] !== '\\') return undefined;
    const c = s[i + 1] ?? '';
    const perl = PERL_CLASSES[c.toLowerCase()];
    if (perl && 'dswDSW'.includes(c)) {
      i += 2;
      return { ranges: c === c.toLowerCase() ? perl : complement(perl), extra: '' };
    }
    if (c !== 'p' && c !== 'P') return undefined;
    // `{` reaches the regexp escaped, so only the one-letter form `\pL` can be written.
    const name = s[i + 2] ?? '';
    i += 3;
    if (name === '' || !'CLMNPSZ'.includes(name)) fail('invalid character class range');
    return { ranges: [], extra: `\\${c}{${name}}` };
  };

  const parseClass = (): string => {
    i++; // [
    let negate = false;
    if (s[i] === '^') {
      negate = true;
      i++;
    }
    const ranges: Ranges = [];
    let extra = '';
    for (let first = true; first || s[i] !== ']'; first = false) {
      if (i >= s.length) fail('missing closing ]');
      if (s[i] === '[' && s[i + 1] === ':') {
        let close = i + 2;
        while (close + 1 < s.length && !(s[close] === ':' && s[close + 1] === ']')) close++;
        if (close + 1 < s.length) {
          let name = s.slice(i + 2, close).join('');
          const neg = name.startsWith('^');
          if (neg) name = name.slice(1);
          const posix = POSIX_CLASSES[name];
          if (!Object.hasOwn(POSIX_CLASSES, name) || !posix) fail('invalid character class range');
          ranges.push(...(neg ? complement(posix!) : posix!));
          i = close + 2;
          continue;
        }
      }
      const g = group();
      if (g) {
        ranges.push(...g.ranges);
        extra += g.extra;
        continue;
      }
      const classChar = (): number => {
        if (i >= s.length) fail('missing closing ]');
        return s[i] === '\\' ? escapedChar() : s[i++]!.codePointAt(0)!;
      };
      const lo = classChar();
      let hi = lo;
      if (s[i] === '-' && i + 1 < s.length && s[i + 1] !== ']') {
        i++;
        hi = classChar();
        if (hi < lo) fail('invalid character class range');
      }
      ranges.push([lo, hi]);
    }
    i++; // ]
    return classSource(ranges, extra, negate);
  };

  while (i < s.length) {
    const ch = s[i]!;
    if (ch === '*' || ch === '+' || ch === '?') {
      if (last === 'none') fail('missing argument to repetition operator');
      if (last === 'repeat') fail('invalid nested repetition operator');
      out += ch;
      i++;
      if (s[i] === '?') {
        out += '?';
        i++;
      }
      last = 'repeat';
      continue;
    }
    const prev: 'none' | 'atom' | 'repeat' = last;
    last = 'atom';
    if (ch === '^' || ch === '$') {
      out += `(?:${ch})`;
      i++;
    } else if (ch === '(') {
      out += '(?:';
      depth++;
      i++;
      last = 'none';
    } else if (ch === ')') {
      if (--depth < 0) fail('unexpected )');
      out += ')';
      i++;
    } else if (ch === '.') {
      out += '[^\\n]';
      i++;
    } else if (ch === '[') {
      out += parseClass();
    } else if (ch === '\\') {
      const next = s[i + 1];
      const assertion: Record<string, string> = { A: '(?:^)', z: '(?:$)', b: '(?:\\b)', B: '(?:\\B)' };
      if (next !== undefined && Object.hasOwn(assertion, next)) {
        out += assertion[next];
        i += 2;
      } else if (next === 'C') {
        fail('invalid escape sequence');
      } else if (next === 'Q') {
        // Every character up to `\E` (or the end) is a literal atom of its own.
        let end = i + 2;
        while (end < s.length && !(s[end] === '\\' && s[end + 1] === 'E')) end++;
        const literal = s.slice(i + 2, end);
        out += literal.map((c) => u(c.codePointAt(0)!)).join('');
        if (literal.length === 0) last = prev;
        i = end + 2;
      } else {
        const g = group();
        out += g ? classSource(g.ranges, g.extra) : u(escapedChar());
      }
    } else {
      out += u(ch.codePointAt(0)!);
      i++;
    }
  }
  if (depth !== 0) fail('missing closing )');
  return new RegExp(out, 'u');
}
