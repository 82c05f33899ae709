/**
 * Hostile input for the parser: input ends in a result or a BuildError,
 * quickly. Long lines of the characters each stage treats specially (line endings,
 * escapes, quotes, heredoc markers, `$`, JSON brackets, directive blanks, ONBUILD
 * chains), then seeded random Dockerfiles built from the same characters. No test
 * measures time (CI machines are loaded): a hang is caught by ava's timeout.
 */
import test from 'ava';
import { prng } from '@tsbuild/layerstore/testing';
import { BuildError } from '../errors.js';
import { parse } from './instructions/index.js';

const LONG = 65_000;

function parseOrError(text: string): 'ok' | string {
  try {
    parse(text);
    return 'ok';
  } catch (err) {
    if (err instanceof BuildError) return err.code;
    throw err;
  }
}

const hostile: Record<string, string> = {
  'carriage returns': `FROM a\nRUN x${'\r'.repeat(LONG)}y\n`,
  'escapes': `FROM a\nRUN ${'\\'.repeat(LONG)}\n`,
  'escaped blanks': `FROM a\nRUN ${'\\ '.repeat(LONG / 2)}x\n`,
  'double quotes': `FROM a\nRUN <<${'"'.repeat(LONG)}\n`,
  'single quotes': `FROM a\nCOPY ${"'".repeat(LONG)} /x\n`,
  'heredoc markers': `FROM a\nRUN ${'<<'.repeat(LONG / 2)}\n`,
  'heredoc markers with blanks': `FROM a\nRUN ${'<< '.repeat(LONG / 3)}\n`,
  'dollars and braces': `FROM a\nRUN <<EOF ${'${'.repeat(LONG / 2)}\nEOF\n`,
  'brackets': `FROM a\nCMD ${'['.repeat(LONG)}\n`,
  'directive blanks': `#escape=${' '.repeat(LONG)}x\nFROM a\n`,
  'flag quotes': `FROM a\nRUN --a=${'"\\'.repeat(LONG / 2)}\n`,
  'words': `FROM a\nENV ${'a=b '.repeat(LONG / 4)}\n`,
  'many lines': 'FROM a\n' + 'RUN x \\\n'.repeat(20_000) + 'y\n',
  'many heredocs': 'FROM a\nRUN ' + '<<E '.repeat(10_000) + '\n' + 'E\n'.repeat(10_000),
  'ONBUILD chain': `FROM a\n${'ONBUILD '.repeat(8_000)}RUN x\n`,
  'ONBUILD chain with a heredoc': `FROM a\n${'ONBUILD '.repeat(5_000)}RUN <<EOF\nx\nEOF\n`,
  'nested JSON brackets': `FROM a\nCMD ${'['.repeat(30_000)}${']'.repeat(30_000)}\n`,
};

for (const [name, text] of Object.entries(hostile)) {
  test(`hostile input: ${name}`, (t) => {
    t.notThrows(() => parseOrError(text));
  });
}

test('a chain of 8,000 ONBUILDs gets the typed chaining error, like a short one', (t) => {
  for (const n of [2, 8_000]) {
    const err = t.throws(() => parse(`FROM a\n${'ONBUILD '.repeat(n)}RUN x\n`), { instanceOf: BuildError });
    t.is(err?.code, 'TSBUILD_INVALID_ARGUMENT');
    t.regex(err?.message ?? '', /Chaining ONBUILD/);
    t.is(err?.location?.startLine, 2);
  }
  // BuildKit's parser splits every level first: a bad JSON form two levels down wins.
  t.is(parseOrError('FROM a\nONBUILD ONBUILD CMD [1]\n'), 'TSBUILD_DOCKERFILE_SYNTAX');
});

test('random Dockerfiles parse or fail with a BuildError', (t) => {
  const alphabet = ['\n', '\r\n', '\r', ' ', '\t', '\\', '`', '"', "'", '#', '=', '<<', '<<-', '-', '--', '$', '{', '}', '[', ']', ',', 'a', 'EOF', '\uFEFF', '\u00a0', 'é'];
  const keywords = ['FROM ', 'RUN ', 'COPY ', 'ADD ', 'ENV ', 'LABEL ', 'ARG ', 'ONBUILD ', 'HEALTHCHECK ', 'CMD ', 'SHELL ', '# escape=', '# syntax='];
  const rand = prng(42);
  const codes = new Set<string>();
  for (let i = 0; i < 3000; i++) {
    let text = '';
    const len = rand(60);
    for (let j = 0; j < len; j++) text += rand(4) === 0 ? keywords[rand(keywords.length)]! : alphabet[rand(alphabet.length)]!;
    codes.add(parseOrError(text));
  }
  t.true(codes.has('ok'));
  t.true(codes.size > 3, [...codes].join(', '));
});
