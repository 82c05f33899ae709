/**
 * `.dockerignore` with BuildKit's semantics: the line format of moby/patternmatcher's
 * `ignorefile.ReadAll`, the pattern language of `patternmatcher` (a glob turned into a
 * Go RE2 regexp: dockerignore-pattern.ts, matched without backtracking), and the way
 * fsutil's filtering walker applies the patterns while it sends a build context.
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
import { trimGo } from '../dockerfile/instructions/words.js';
import { BuildError } from '../errors.js';
import { compilePattern, PatternSyntaxError } from './dockerignore-pattern.js';
import { CacheBudget } from './re2-dfa.js';

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
    let body = trimGo(raw);
    if (body === '') return;
    const exclusion = body.startsWith('!');
    if (exclusion) body = trimGo(body.slice(1));
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
      if (!(err instanceof PatternSyntaxError)) throw err;
      fail(`syntax error in pattern ${JSON.stringify(pattern)}: ${err.message}`);
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
    const budget = new CacheBudget(); // one for all the patterns: many lines cannot add up
    this.#patterns = patterns.map((p) => ({ exclusion: p.exclusion, test: compilePattern(p.text, { budget }) }));
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
    return this.#evaluateBelow(relPath, slash > 0 ? this.#recordOf(relPath.slice(0, slash)) : undefined);
  }

  #evaluateBelow(relPath: string, parent: MatchRecord | undefined): { excluded: boolean; record: MatchRecord } {
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

  /** The record of a directory, computing those of its uncached ancestors top down (no recursion). */
  #recordOf(dir: string): MatchRecord {
    const uncached: string[] = [];
    let record: MatchRecord | undefined;
    for (let d = dir; ; ) {
      record = this.#records.get(d);
      if (record !== undefined) break;
      uncached.push(d);
      const slash = d.lastIndexOf('/');
      if (slash <= 0) break;
      d = d.slice(0, slash);
    }
    for (let k = uncached.length - 1; k >= 0; k--) {
      record = this.#evaluateBelow(uncached[k]!, record).record;
      if (this.#records.size >= 50_000) this.#records.clear();
      this.#records.set(uncached[k]!, record);
    }
    return record!;
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
