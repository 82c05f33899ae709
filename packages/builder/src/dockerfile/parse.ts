/**
 * Dockerfile text -> raw instructions with their line ranges (the first of two parse
 * steps; `instructions/` makes them typed). dockerfile-ast finds where each
 * instruction starts; this module applies BuildKit's rules (`frontend/dockerfile/parser`)
 * for everything else: parser directives, the logical line (continuation lines joined,
 * comment and empty lines inside a continuation dropped), flags, the JSON (exec) form,
 * heredocs, and the errors BuildKit raises while parsing.
 *
 * Lines are what BuildKit's scanner sees: split on `\n` only (a lone `\r` is part of a
 * line), trailing `\r`s dropped, at most 65535 bytes each.
 */
import { DockerfileParser } from 'dockerfile-ast';
import { BuildError, type SourceLocation } from '../errors.js';
import { HeredocLexer, parseHeredocWord, type HeredocMarker } from './instructions/heredoc.js';
import { isGoSpace, trimGo, trimLeftGo } from './instructions/words.js';
import { directiveWarnings, type DirectiveWarning } from './directives.js';

export interface Heredoc {
  name: string;
  /** The body lines, each with its line ending as written (`\r\n` stays). */
  content: string;
  /** Unquoted delimiter: variables in the content are expanded. */
  expand: boolean;
  /**
   * `<<-`: leading tabs were stripped from every line of the content (except under
   * ONBUILD, whose heredocs only go back into the trigger text, as written).
   */
  chomp: boolean;
}

export interface RawFlag {
  name: string;
  /** undefined for a bare `--flag`. */
  value: string | undefined;
}

export interface RawInstruction {
  /** Upper-case keyword. */
  keyword: string;
  flags: RawFlag[];
  /** Argument text after the flags, continuations joined, trimmed. */
  args: string;
  /**
   * The arguments as a JSON array of strings, when written in that (exec) form. For
   * HEALTHCHECK, the part after the type (`CMD ["a"]` -> `["a"]`), as in BuildKit.
   */
  json?: string[];
  /** ONBUILD: the instruction it registers, split the same way. */
  trigger?: RawInstruction;
  heredocs: Heredoc[];
  /** The logical line without the keyword's original case, e.g. `RUN echo hi` (for ONBUILD and messages). */
  original: string;
  location: SourceLocation;
}

export interface ParseWarning {
  message: string;
  location: SourceLocation;
}

export interface ParsedDockerfile {
  file: string;
  escape: '\\' | '`';
  syntax?: string;
  instructions: RawInstruction[];
  warnings: ParseWarning[];
}

export const MAX_LINE = 65535;
const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);
const JSON_KEYWORDS = new Set(['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'ADD', 'COPY', 'VOLUME']);

export function parseDockerfile(text: string, file = 'Dockerfile'): ParsedDockerfile {
  // Only a zero-byte file is "empty"; blank lines or a lone BOM give "file with no instructions".
  if (text.length === 0) throw new BuildError('TSBUILD_DOCKERFILE_EMPTY', 'the Dockerfile cannot be empty', { location: loc(file, 0, 0) });
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((l, i) => {
    if (l.length > MAX_LINE / 3 && Buffer.byteLength(l) > MAX_LINE) {
      throw syntaxError(`dockerfile line greater than max allowed size of ${MAX_LINE}`, loc(file, i, i));
    }
  });

  const { escape, syntax, end, warnings } = readDirectives(lines, file);
  const doc: Doc = { lines, file, escape, warnings };
  const instructions: RawInstruction[] = [];
  const starts = astStarts(text, lines);
  let next = end; // first line not yet read
  for (let k = 0; next < lines.length; ) {
    while (k < starts.length && starts[k]! < next) k++;
    // dockerfile-ast is a language-server parser and sometimes misses an instruction
    // that BuildKit sees; BuildKit starts one at every line that is neither blank nor a
    // comment, so any such line before dockerfile-ast's next start is one it missed.
    // Cases (fixtures/parse): `\\` at the end of a line (BuildKit: not a continuation),
    // an escape directive after an unknown directive (BuildKit ignores it), `<<- EOF`
    // (BuildKit: not a heredoc, dockerfile-ast: swallows the rest of the file).
    let start = next;
    const bound = starts[k] ?? lines.length;
    while (start < bound && skippable(lines[start]!)) start++;
    if (start >= lines.length) break;
    if (skippable(lines[start]!)) {
      next = start + 1; // dockerfile-ast start on a line BuildKit skips
      continue;
    }
    const { instruction, endLine } = readInstruction(doc, start);
    instructions.push(instruction);
    next = endLine + 1;
  }
  if (instructions.length === 0) {
    throw new BuildError('TSBUILD_DOCKERFILE_EMPTY', 'file with no instructions', { location: loc(file, 0, Math.max(0, lines.length - 1)) });
  }
  return { file, escape, ...(syntax !== undefined ? { syntax } : {}), instructions, warnings: doc.warnings };
}

interface Doc {
  lines: string[];
  file: string;
  escape: '\\' | '`';
  warnings: ParseWarning[];
}

function loc(file: string, start: number, end: number): SourceLocation {
  return { file, startLine: start + 1, endLine: end + 1 };
}

function syntaxError(message: string, location: SourceLocation): BuildError {
  return new BuildError('TSBUILD_DOCKERFILE_SYNTAX', message, { location });
}

/** bytes.TrimRight(line, "\r\n"), without a regexp that would be quadratic on a line of `\r`s. */
function trimNewline(line: string): string {
  let end = line.length;
  while (end > 0 && (line[end - 1] === '\r' || line[end - 1] === '\n')) end--;
  return line.slice(0, end);
}

/** A blank or comment line: BuildKit never starts an instruction there. */
function skippable(line: string): boolean {
  const t = trimLeftGo(trimNewline(line));
  return t === '' || t.startsWith('#');
}

// BuildKit: `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`; the value is trimmed by hand
// below, as a lazy group before `\s*$` backtracks quadratically on long blank runs.
const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=([\s\S]+)$/;
const GO_REGEXP_SPACE = /[\t\n\f\r ]/;

/** The `(.+?)` of `\s*(.+?)\s*$`: trimmed, or the last blank when there is nothing else. */
function directiveValue(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && GO_REGEXP_SPACE.test(text[start]!)) start++;
  while (end > start && GO_REGEXP_SPACE.test(text[end - 1]!)) end--;
  return start < end ? text.slice(start, end) : text.slice(-1);
}

const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);

/**
 * Parser directives: `# name=value` lines at the very top. The first line that is not
 * one (a blank line, another comment, an unknown name) ends them. Read here rather than
 * taken from dockerfile-ast, which also accepts an escape directive after an unknown one.
 * `syntax` naming another frontend and `check` are warned about (directives.ts).
 */
function readDirectives(lines: string[], file: string): { escape: '\\' | '`'; syntax?: string; end: number; warnings: DirectiveWarning[] } {
  let escape: '\\' | '`' = '\\';
  let syntax: string | undefined;
  const ignored: Parameters<typeof directiveWarnings>[0] = {};
  const seen = new Set<string>();
  let i = 0;
  for (; i < lines.length; i++) {
    const line = trimLeftGo(trimNewline(lines[i]!));
    const m = line.startsWith('#') ? DIRECTIVE.exec(trimLeftGo(line.slice(1))) : null;
    const name = m?.[1]!.toLowerCase();
    if (!m || !KNOWN_DIRECTIVES.has(name!)) break;
    if (seen.has(name!)) throw syntaxError(`only one ${name} parser directive can be used`, loc(file, i, i));
    seen.add(name!);
    const value = directiveValue(m[2]!);
    if (name === 'escape') {
      if (value !== '`' && value !== '\\') throw syntaxError(`invalid escape token '${value}' does not match \` or \\`, loc(file, i, i));
      escape = value;
    } else if (name === 'syntax') {
      syntax = value;
      ignored.syntax = { value, location: loc(file, i, i) };
    } else if (name === 'check') {
      ignored.check = { value, location: loc(file, i, i) };
    }
  }
  return { escape, ...(syntax !== undefined ? { syntax } : {}), end: i, warnings: directiveWarnings(ignored) };
}

/**
 * Line indexes (ours) where dockerfile-ast sees an instruction start. It counts a lone
 * `\r` as a line break and BuildKit does not, so positions go through text offsets.
 */
function astStarts(text: string, lines: string[]): number[] {
  const astLineOffsets = [0];
  for (const m of text.matchAll(/\r\n|\r|\n/g)) astLineOffsets.push(m.index + m[0].length);
  const lineOffsets: number[] = [];
  let offset = 0;
  for (const l of lines) {
    lineOffsets.push(offset);
    offset += l.length + 1;
  }
  const out = new Set<number>();
  for (const ins of DockerfileParser.parse(text).getInstructions()) {
    const { line, character } = ins.getRange().start;
    const at = (astLineOffsets[line] ?? text.length) + character;
    let lo = 0;
    let hi = lineOffsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineOffsets[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    out.add(lo);
  }
  return [...out].sort((a, b) => a - b);
}

/** One instruction starting at line `start`: its logical line, then its heredoc bodies. */
function readInstruction(doc: Doc, start: number): { instruction: RawInstruction; endLine: number } {
  const { lines, file, escape } = doc;
  // The escape token at the end of a line continues it, unless it is itself escaped
  // (`\\`); a line of only the token continues too. BuildKit's regexp cannot tell `\\\`
  // (escaped token, then a continuation) from `\\`: neither continues.
  const e = escape === '\\' ? '\\\\' : '`';
  const continuation = new RegExp(`(^|[^${e}])${e}[ \\t]*$`);
  const trimContinuation = (line: string): [string, boolean] => {
    const m = continuation.exec(line);
    return m ? [line.slice(0, m.index) + m[1], false] : [line, true];
  };
  let [line, done] = trimContinuation(trimLeftGo(trimNewline(lines[start]!)));
  let end = start;
  let emptyContinuation = false;
  while (!done && end + 1 < lines.length) {
    const raw = trimNewline(lines[++end]!);
    const body = trimLeftGo(raw);
    if (body.startsWith('#')) continue;
    if (body === '') {
      emptyContinuation = true;
      continue;
    }
    const [part, last] = trimContinuation(raw);
    line += part;
    done = last;
  }
  const location = loc(file, start, end);
  if (emptyContinuation) doc.warnings.push({ message: `Empty continuation line found in: ${line}`, location });

  const instruction = splitInstruction(line, location);
  const target = instruction.trigger ?? instruction;
  if (HEREDOC_KEYWORDS.has(target.keyword) && !target.json && line.includes('<<')) {
    for (const marker of heredocsFromLine(line, location)) {
      const chomp = marker.chomp && !instruction.trigger;
      const body: string[] = [];
      let closed = false;
      while (++end < lines.length) {
        const candidate = trimNewline(lines[end]!);
        if ((marker.chomp ? candidate.replace(/^\t+/, '') : candidate) === marker.name) {
          closed = true;
          break;
        }
        body.push(chomp ? lines[end]!.replace(/^\t+/, '') : lines[end]!);
      }
      if (!closed) throw syntaxError(`unterminated heredoc <<${marker.chomp ? '-' : ''}${marker.name}`, loc(file, start, lines.length - 1));
      instruction.heredocs.push({ name: marker.name, content: body.map((l) => `${l}\n`).join(''), expand: marker.expand, chomp: marker.chomp });
    }
    location.endLine = end + 1;
  }
  return { instruction, endLine: end };
}

/**
 * A logical line -> keyword, flags and arguments (BuildKit's splitCommand), with the
 * JSON form and, for ONBUILD, the trigger instruction split the same way. A chain of
 * ONBUILDs is split level by level in a loop (toInstruction refuses it later), so a line
 * of thousands of them cannot exhaust the stack.
 */
function splitInstruction(line: string, location: SourceLocation): RawInstruction {
  const levels = [splitOne(line, location)];
  for (let top = levels[0]!; top.keyword === 'ONBUILD' && top.args !== ''; top = levels[levels.length - 1]!) {
    levels.push(splitOne(top.args, location));
  }
  for (let i = levels.length - 2; i >= 0; i--) levels[i]!.trigger = levels[i + 1]!;
  return levels[0]!;
}

function splitOne(line: string, location: SourceLocation): RawInstruction {
  const text = trimGo(line);
  const kw = /^([^\t\v\f\r ]*)[\t\v\f\r ]*/.exec(text)!;
  const keyword = kw[1]!.toUpperCase();
  const rest = text.slice(kw[0].length);
  const { flags, rest: afterFlags } = extractFlags(rest);
  const args = trimGo(afterFlags);
  const instruction: RawInstruction = { keyword, flags, args, heredocs: [], original: rest ? `${keyword} ${rest}` : keyword, location };
  let json: string[] | undefined;
  if (JSON_KEYWORDS.has(keyword)) json = parseJsonArray(args, location);
  if (keyword === 'HEALTHCHECK') json = parseJsonArray(trimLeftGo(args.slice(firstWordLength(args))), location);
  if (json) instruction.json = json;
  return instruction;
}

function firstWordLength(text: string): number {
  let i = 0;
  while (i < text.length && !isGoSpace(text[i]!)) i++;
  return i;
}

/**
 * `--name=value` words at the start of the arguments (BuildKit's extractBuilderFlags):
 * quotes removed, `\` escapes the next character (whatever the escape directive says),
 * an unclosed quote runs to the end of the line, and a `--` word ends the flags.
 */
export function extractFlags(text: string): { flags: RawFlag[]; rest: string } {
  const flags: RawFlag[] = [];
  let pos = 0;
  for (;;) {
    while (pos < text.length && isGoSpace(text[pos]!)) pos++;
    if (!text.startsWith('--', pos)) return { flags, rest: text.slice(pos) };
    let word = '';
    let quote: string | undefined;
    for (; pos < text.length; pos++) {
      let ch = text[pos]!;
      if (!quote && isGoSpace(ch)) break;
      if (ch === quote) {
        quote = undefined;
        continue;
      }
      if (!quote && (ch === '"' || ch === "'")) {
        quote = ch;
        continue;
      }
      if (ch === '\\') {
        if (pos + 1 === text.length) continue;
        ch = text[++pos]!;
      }
      word += ch;
    }
    if (word === '--') return { flags, rest: text.slice(pos) };
    const eq = word.indexOf('=');
    flags.push(eq === -1 ? { name: word.slice(2), value: undefined } : { name: word.slice(2, eq), value: word.slice(eq + 1) });
  }
}

/**
 * BuildKit's "maybe JSON": text starting with `[` that parses as JSON is the exec form;
 * anything else (single quotes, trailing text, an unclosed bracket) is shell form. A JSON
 * array holding anything but strings is an error.
 */
export function parseJsonArray(text: string, location?: SourceLocation): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined; // not JSON: shell form
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x) => typeof x === 'string')) {
    throw new BuildError('TSBUILD_DOCKERFILE_SYNTAX', 'when using JSON array syntax, arrays must be comprised of strings only', { ...(location ? { location } : {}) });
  }
  return v as string[];
}

/**
 * The heredocs a RUN/COPY/ADD line opens: its words (split by HeredocLexer, with
 * quotes and escapes kept and `<<` followed by blanks kept in one word) that are heredoc
 * markers. BuildKit ignores a line its lexer cannot split (an unclosed quote); when the
 * unclosed quote is in a `<<` word we report it instead of running the body lines as
 * instructions.
 */
function heredocsFromLine(line: string, location: SourceLocation): HeredocMarker[] {
  const lexed = new HeredocLexer(line, true, true).split();
  if (lexed.fault) {
    if (/^\d*<</.test(lexed.partial ?? '')) throw syntaxError(`invalid heredoc ${lexed.partial}: ${lexed.fault}`, location);
    return [];
  }
  const out: HeredocMarker[] = [];
  for (const word of lexed.words) {
    try {
      const marker = parseHeredocWord(word);
      if (marker) out.push(marker);
    } catch (err) {
      throw err instanceof BuildError ? err.at(location) : err;
    }
  }
  return out;
}

