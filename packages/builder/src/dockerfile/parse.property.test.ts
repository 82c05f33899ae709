/**
 * Property tests of the Dockerfile parser (fast-check; run count, seed and the bound on
 * each case come from `@tsbuild/layerstore/testing`): any text parses or fails with a
 * BuildError; a Dockerfile printed from a model (any keyword case, indentation, CRLF,
 * comments and blank lines between instructions) parses back to the model, with each
 * instruction on the line it was printed on; and a parsed instruction's logical line
 * parses again to the same instruction.
 */
import test from 'ava';
import { deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { bounded, outcome, propertyParameters, Tally } from '@tsbuild/layerstore/testing';
import { BuildError } from '../errors.js';
import { parse, type Instruction } from './instructions/index.js';
import { parseDockerfile, type RawInstruction } from './parse.js';
import { envFromList, ShellLex } from './shell-lex.js';

const buildCode = (err: unknown): string | undefined => (err instanceof BuildError ? err.code : undefined);

/** Pieces each stage treats specially, keywords, and plain characters. */
const piece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('\n', '\r\n', '\r', ' ', '\t', '\\', '`', '"', "'", '#', '=', '<<', '<<-', '-', '--', '$', '{', '}', '[', ']', ',', ':', 'a', 'EOF', '\uFEFF', '\u00a0', 'é', '😀') },
  { weight: 1, arbitrary: fc.constantFrom('FROM ', 'RUN ', 'COPY ', 'ADD ', 'ENV ', 'LABEL ', 'ARG ', 'ONBUILD ', 'HEALTHCHECK ', 'CMD ', 'ENTRYPOINT ', 'SHELL ', 'EXPOSE ', 'USER ', 'WORKDIR ', 'VOLUME ', 'STOPSIGNAL ', 'MAINTAINER ', '# escape=', '# syntax=', '--from=', '--chmod=', '--mount=', '--network=') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
);
const keywordPiece = fc.constantFrom('FROM ', 'RUN ', 'COPY ', 'ADD ', 'ENV ', 'LABEL ', 'ARG ', 'ONBUILD ', 'HEALTHCHECK ', 'CMD ', 'ENTRYPOINT ', 'SHELL ', 'EXPOSE ', 'USER ', 'WORKDIR ', 'VOLUME ', 'STOPSIGNAL ', 'MAINTAINER ');
/** Lines that start with a keyword, so that more of them get past the first step. */
const instructionLines = fc
  .array(fc.tuple(keywordPiece, fc.array(piece, { maxLength: 12 })), { minLength: 1, maxLength: 8 })
  .map((lines) => `FROM a\n${lines.map(([k, rest]) => `${k}${rest.join('')}\n`).join('')}`);
const dockerfileText = fc.oneof(
  fc.array(piece, { maxLength: 80 }).map((parts) => parts.join('')),
  instructionLines,
);

test('any text parses or fails with a BuildError', (t) => {
  const tally = new Tally();
  fc.assert(
    fc.property(
      fc.oneof({ weight: 4, arbitrary: dockerfileText }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) }),
      bounded((text: string) => {
        tally.add(outcome(() => parse(text), buildCode));
      }),
    ),
    propertyParameters(),
  );
  t.log(`parse: ${tally}`);
  t.true(tally.has('ok') && tally.size > 3, String(tally));
});

// --- A model of a Dockerfile, its printer, and what the parser must give back. ---

type Model =
  | { kind: 'FROM'; image: string; alias?: string }
  | { kind: 'RUN' | 'CMD' | 'ENTRYPOINT'; exec: string[] }
  | { kind: 'RUN' | 'CMD' | 'ENTRYPOINT'; shell: string }
  | { kind: 'ENV' | 'LABEL'; pairs: [string, string][] }
  | { kind: 'ARG'; name: string; value?: string }
  | { kind: 'WORKDIR' | 'USER'; word: string }
  | { kind: 'EXPOSE'; ports: string[] }
  | { kind: 'COPY'; paths: string[]; from?: string; chmod?: string; link: boolean };

/** Any string of printable characters, quotes, `$`, backslashes, tabs and non-ASCII, but no line break. */
const anyText = fc.string({ unit: fc.oneof(fc.constantFrom('"', "'", '\\', '$', '{', '}', '`', '\t', ' ', '=', '#', '<', 'é', '😀', '\u00a0'), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 })), maxLength: 24 }).filter((s) => !/[\r\n]/.test(s));
const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
const word = fc.stringMatching(/^[a-zA-Z0-9/._:-]{1,16}$/).filter((w) => !w.startsWith('-'));
/** Shell-form text: not JSON, no flags, no heredoc, no continuation, no leading or trailing blank. */
const shellText = fc
  .stringMatching(/^[a-z0-9 ;|&$"'{}()=.\/*?!@%+,:~\\#]{1,40}$/)
  .map((s) => s.trim())
  .filter((s) => s !== '' && !s.startsWith('-') && !s.endsWith('\\') && !s.includes('<<'));

const model: fc.Arbitrary<Model> = fc.oneof(
  fc.record({ kind: fc.constant('FROM' as const), image: word, alias: fc.option(fc.stringMatching(/^[a-z][a-z0-9_.-]{0,8}$/), { nil: undefined }) }),
  fc.record({ kind: fc.constantFrom('RUN' as const, 'CMD' as const, 'ENTRYPOINT' as const), exec: fc.array(anyText, { maxLength: 4 }) }),
  fc.record({ kind: fc.constantFrom('RUN' as const, 'CMD' as const, 'ENTRYPOINT' as const), shell: shellText }),
  fc.record({ kind: fc.constantFrom('ENV' as const, 'LABEL' as const), pairs: fc.array(fc.tuple(name, anyText), { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('ARG' as const), name, value: fc.option(anyText, { nil: undefined }) }),
  fc.record({ kind: fc.constantFrom('WORKDIR' as const, 'USER' as const), word }),
  fc.record({ kind: fc.constant('EXPOSE' as const), ports: fc.array(fc.stringMatching(/^[1-9][0-9]{0,4}(\/tcp|\/udp)?$/), { minLength: 1, maxLength: 3 }) }),
  fc.record({
    kind: fc.constant('COPY' as const),
    // `0<<EOF` is a heredoc marker (an fd, then `<<`), in the JSON form too.
    paths: fc.array(anyText.filter((s) => !/^\d*<</.test(s)), { minLength: 2, maxLength: 4 }),
    from: fc.option(fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/), { nil: undefined }),
    chmod: fc.option(fc.stringMatching(/^[0-7]{3,4}$/), { nil: undefined }),
    link: fc.boolean(),
  }),
);

/** A double-quoted word whose expansion is `s`. */
const quote = (s: string): string => `"${s.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;

function args(m: Model): string {
  switch (m.kind) {
    case 'FROM':
      return m.alias === undefined ? m.image : `${m.image} AS ${m.alias}`;
    case 'RUN':
    case 'CMD':
    case 'ENTRYPOINT':
      return 'exec' in m ? JSON.stringify(m.exec) : m.shell;
    case 'ENV':
    case 'LABEL':
      return m.pairs.map(([k, v]) => `${k}=${quote(v)}`).join(' ');
    case 'ARG':
      return m.value === undefined ? m.name : `${m.name}=${quote(m.value)}`;
    case 'WORKDIR':
    case 'USER':
      return m.word;
    case 'EXPOSE':
      return m.ports.join(' ');
    case 'COPY':
      return [m.from === undefined ? '' : `--from=${m.from} `, m.chmod === undefined ? '' : `--chmod=${m.chmod} `, m.link ? '--link ' : '', JSON.stringify(m.paths)].join('');
  }
}

const lex = new ShellLex();
const expand = (w: string): string => lex.processWord(w, envFromList([]));

/** What the parser gave for one instruction, in the model's terms. */
function toModel(ins: Instruction): Model {
  switch (ins.kind) {
    case 'FROM':
      return { kind: 'FROM', image: ins.image, ...(ins.alias === undefined ? {} : { alias: ins.alias }) };
    case 'RUN':
    case 'CMD':
    case 'ENTRYPOINT':
      return ins.command.form === 'exec' ? { kind: ins.kind, exec: ins.command.args } : { kind: ins.kind, shell: ins.command.text };
    case 'ENV':
    case 'LABEL':
      return { kind: ins.kind, pairs: ins.pairs.map((p) => [p.key, expand(p.value)]) };
    case 'ARG':
      return { kind: 'ARG', name: ins.args[0]!.name, ...(ins.args[0]!.value === undefined ? {} : { value: expand(ins.args[0]!.value) }) };
    case 'WORKDIR':
      return { kind: 'WORKDIR', word: ins.path };
    case 'USER':
      return { kind: 'USER', word: ins.user };
    case 'EXPOSE':
      return { kind: 'EXPOSE', ports: ins.ports };
    case 'COPY':
      return {
        kind: 'COPY',
        paths: [...ins.sources, ins.dest],
        ...(ins.from === undefined ? {} : { from: ins.from }),
        ...(ins.chmod === undefined ? {} : { chmod: ins.chmod }),
        link: ins.link,
      };
    default:
      throw new Error(`not in the model: ${ins.kind}`);
  }
}

type Layout = { keywordCase: string; indent: string; eol: string; before: string };

/** How the model is laid out: keyword case, indentation, line ending, what comes before it. */
const layout: fc.Arbitrary<Layout> = fc.record({
  keywordCase: fc.constantFrom('upper', 'lower', 'mixed'),
  indent: fc.constantFrom('', ' ', '\t', '  '),
  eol: fc.constantFrom('\n', '\r\n'),
  before: fc.constantFrom('', '\n', '# a comment\n', '   # indented comment\n', '\t\n'),
});

/** Without undefined members and null prototypes (fast-check's records have them). */
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

function keyword(kind: string, style: string): string {
  if (style === 'lower') return kind.toLowerCase();
  if (style === 'mixed') return kind[0] + kind.slice(1).toLowerCase();
  return kind;
}

test('a printed model parses back to the model, each instruction on its line', (t) => {
  t.plan(0);
  const first = fc.record({ kind: fc.constant('FROM' as const), image: word });
  fc.assert(
    fc.property(
      fc.tuple(first, fc.array(model, { maxLength: 8 })).map(([f, rest]) => [f as Model, ...rest]),
      fc.array(layout, { minLength: 9, maxLength: 9 }),
      bounded((models: Model[], layouts: Layout[]) => {
        let text = '';
        const lines: number[] = [];
        models.forEach((m, i) => {
          const l = layouts[i]!;
          text += l.before.replace(/\n/g, l.eol);
          lines.push(text.split('\n').length);
          text += `${l.indent}${keyword(m.kind, l.keywordCase)} ${args(m)}${l.eol}`;
        });
        const { instructions } = parse(text);
        deepStrictEqual(plain(instructions.map(toModel)), plain(models));
        deepStrictEqual(
          instructions.map((ins) => ins.location.startLine),
          lines,
        );
      }),
    ),
    propertyParameters(),
  );
});

/** The parts of a raw instruction its logical line determines. */
function essence(raw: RawInstruction): unknown {
  return { keyword: raw.keyword, flags: raw.flags, args: raw.args, json: raw.json, trigger: raw.trigger && essence(raw.trigger) };
}

test("a parsed instruction's logical line parses again to the same instruction", (t) => {
  let checked = 0;
  fc.assert(
    fc.property(
      dockerfileText,
      bounded((text: string) => {
        let parsed;
        try {
          parsed = parseDockerfile(text);
        } catch (err) {
          if (err instanceof BuildError) return;
          throw err;
        }
        // A blank first line ends the directives and keeps a leading BOM in the text.
        const directive = parsed.escape === '`' ? '# escape=`\n' : '\n';
        for (const raw of parsed.instructions) {
          if (raw.heredocs.length > 0 || (raw.trigger?.heredocs.length ?? 0) > 0) continue;
          // `RUN x \<U+00A0>` does not continue (only blanks and tabs may follow the
          // token), but the trimmed line `RUN x \` would; a line of only the token has none.
          if (raw.original.endsWith(parsed.escape) || raw.original === '') continue;
          const again = parseDockerfile(directive + raw.original).instructions;
          deepStrictEqual(again.map(essence), [essence(raw)]);
          checked++;
        }
      }),
    ),
    propertyParameters(),
  );
  t.true(checked > 0);
});
