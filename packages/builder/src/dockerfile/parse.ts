/**
 * Dockerfile text -> raw instructions with their line ranges (the first of two parse
 * steps; `instructions.ts` makes them typed). dockerfile-ast finds where each
 * instruction starts and the escape directive; this module applies BuildKit's rules
 * for the logical line: continuation lines joined, comment and empty lines inside a
 * continuation dropped, flags split off, JSON (exec) form recognised, heredocs read.
 */
import { DockerfileParser } from 'dockerfile-ast';
import { BuildError, type SourceLocation } from '../errors.js';

export interface Heredoc {
  name: string;
  content: string;
  /** Unquoted delimiter: variables in the content are expanded. */
  expand: boolean;
  /** `<<-`: leading tabs were stripped. */
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
  /** Argument text after the flags, continuations joined. */
  args: string;
  /** The arguments as a JSON array of strings, when written in that (exec) form. */
  json?: string[];
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

export function parseDockerfile(text: string, file = 'Dockerfile'): ParsedDockerfile {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split(/\r?\n/);
  lines.forEach((l, i) => {
    if (l.length > MAX_LINE) {
      throw new BuildError('TSBUILD_DOCKERFILE_SYNTAX', `dockerfile line greater than max allowed size of ${MAX_LINE}`, { location: loc(file, i, i) });
    }
  });
  if (text.trim() === '') throw new BuildError('TSBUILD_DOCKERFILE_EMPTY', 'the Dockerfile cannot be empty', { location: loc(file, 0, 0) });

  const ast = DockerfileParser.parse(text);
  const escape = (ast.getEscapeCharacter() === '`' ? '`' : '\\') as '\\' | '`';
  const syntax = ast.getDirectives().find((d) => d.getName()?.toLowerCase() === 'syntax')?.getValue() ?? undefined;
  const warnings: ParseWarning[] = [];
  const instructions: RawInstruction[] = [];
  let consumed = -1; // last line index already used by a previous instruction (heredoc bodies)
  for (const node of ast.getInstructions()) {
    const start = node.getRange().start.line;
    if (start <= consumed) continue;
    const raw = readInstruction(lines, start, escape, file, warnings);
    consumed = raw.endLine;
    instructions.push(raw.instruction);
  }
  if (instructions.length === 0) {
    throw new BuildError('TSBUILD_DOCKERFILE_EMPTY', 'file with no instructions', { location: loc(file, 0, lines.length - 1) });
  }
  return { file, escape, ...(syntax ? { syntax } : {}), instructions, warnings };
}

function loc(file: string, start: number, end: number): SourceLocation {
  return { file, startLine: start + 1, endLine: end + 1 };
}

function readInstruction(lines: string[], start: number, escape: string, file: string, warnings: ParseWarning[]): { instruction: RawInstruction; endLine: number } {
  const continuation = new RegExp(`${escape === '\\' ? '\\\\' : '`'}[ \\t]*$`);
  let logical = '';
  let i = start;
  let emptyContinuation = false;
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    if (i > start && /^\s*#/.test(line)) continue;
    if (i > start && line.trim() === '') {
      emptyContinuation = true;
      continue;
    }
    const m = continuation.exec(line);
    if (m && i < lines.length - 1) {
      logical += line.slice(0, m.index);
      continue;
    }
    logical += m ? line.slice(0, m.index) : line;
    break;
  }
  let end = Math.min(i, lines.length - 1);
  const location = loc(file, start, end);
  if (emptyContinuation) warnings.push({ message: 'Empty continuation line found in: ' + logical.trim(), location });

  logical = logical.replace(/^\s+/, '');
  const kw = /^(\S+)\s*/.exec(logical);
  const keyword = (kw?.[1] ?? '').toUpperCase();
  let rest = logical.slice(kw?.[0].length ?? 0);
  const { flags, rest: afterFlags } = extractFlags(rest, escape, location);
  rest = afterFlags.replace(/\s+$/, '');

  const heredocs: Heredoc[] = [];
  if (HEREDOC_KEYWORDS.has(keyword)) {
    for (const marker of heredocMarkers(rest, location)) {
      const body: string[] = [];
      let closed = false;
      for (end = end + 1; end < lines.length; end++) {
        let line = lines[end]!;
        if (marker.chomp) line = line.replace(/^\t+/, '');
        if (line === marker.name) {
          closed = true;
          break;
        }
        body.push(line);
      }
      if (!closed) {
        throw new BuildError('TSBUILD_DOCKERFILE_SYNTAX', `unterminated heredoc <<${marker.chomp ? '-' : ''}${marker.name}`, { location: loc(file, start, lines.length - 1) });
      }
      heredocs.push({ ...marker, content: body.length > 0 ? `${body.join('\n')}\n` : '' });
    }
    location.endLine = end + 1;
  }
  const instruction: RawInstruction = {
    keyword,
    flags,
    args: rest,
    heredocs,
    original: `${keyword} ${logical.slice(kw?.[0].length ?? 0)}`.trim(),
    location,
  };
  const json = parseJsonArray(rest);
  if (json) instruction.json = json;
  return { instruction, endLine: location.endLine - 1 };
}

/** `--name=value` words at the start of the arguments (quotes in values removed). */
export function extractFlags(text: string, escape: string, location: SourceLocation): { flags: RawFlag[]; rest: string } {
  const flags: RawFlag[] = [];
  let pos = 0;
  for (;;) {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
    if (!text.startsWith('--', pos)) break;
    const { word, next } = readWord(text, pos, escape, location);
    if (word === '--') {
      throw new BuildError('TSBUILD_UNKNOWN_FLAG', 'unknown flag: --', { location });
    }
    const body = word.slice(2);
    const eq = body.indexOf('=');
    flags.push(eq === -1 ? { name: body, value: undefined } : { name: body.slice(0, eq), value: body.slice(eq + 1) });
    pos = next;
  }
  return { flags, rest: text.slice(pos) };
}

/** One shell-like word starting at `pos`: quotes removed, escapes applied. */
function readWord(text: string, pos: number, escape: string, location: SourceLocation): { word: string; next: number } {
  let word = '';
  let quote: string | undefined;
  let i = pos;
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === escape && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += ch;
      continue;
    }
    if (/\s/.test(ch)) break;
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === escape && i + 1 < text.length) word += text[++i];
    else word += ch;
  }
  if (quote) throw new BuildError('TSBUILD_DOCKERFILE_SYNTAX', `unmatched ${quote} in flag`, { location });
  return { word, next: i };
}

/** BuildKit's "maybe JSON": an array of strings, else undefined (shell form). */
export function parseJsonArray(text: string): string[] | undefined {
  const t = text.trim();
  if (!t.startsWith('[') || !t.endsWith(']')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  } catch {
    // not JSON: shell form
  }
  return undefined;
}

interface HeredocMarker {
  name: string;
  expand: boolean;
  chomp: boolean;
}

/**
 * Heredoc markers in an argument line: words of the form `<<[-]DELIM` where DELIM may be
 * quoted ('EOF', "EOF", or partly: EO"F"); a quoted delimiter turns expansion off.
 */
function heredocMarkers(text: string, location: SourceLocation): HeredocMarker[] {
  const out: HeredocMarker[] = [];
  const re = /(^|\s)<<(-?)[ \t]*([^\s<][^\s]*)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const rawName = m[3]!;
    let name = '';
    let quoted = false;
    let quote: string | undefined;
    for (const ch of rawName) {
      if (quote) {
        if (ch === quote) quote = undefined;
        else name += ch;
      } else if (ch === '"' || ch === "'") {
        quote = ch;
        quoted = true;
      } else name += ch;
    }
    if (quote) throw new BuildError('TSBUILD_DOCKERFILE_SYNTAX', `invalid heredoc delimiter ${rawName}: unmatched quote`, { location });
    if (name === '') continue;
    out.push({ name, expand: !quoted, chomp: m[2] === '-' });
  }
  return out;
}
