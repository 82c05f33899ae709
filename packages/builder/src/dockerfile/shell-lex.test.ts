import test from 'ava';
import { readFileSync } from 'node:fs';
import { BuildError } from '../errors.js';
import { ExpansionError, ShellLex, envFromList, type EnvLookup } from './shell-lex.js';

// Tests run from dist/; the vectors stay in the source tree.
const testdata = new URL('../../src/dockerfile/testdata/', import.meta.url);
const readVectors = (name: string): string[] => readFileSync(new URL(name, testdata), 'utf8').split('\n');

const lex = new ShellLex();
const envOf = (vars: Record<string, string>): EnvLookup => (name) => (Object.hasOwn(vars, name) ? vars[name] : undefined);

/** Runs `fn`, returning its result or the string 'error' when it throws an ExpansionError. */
function orError<T>(fn: () => T): T | 'error' {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ExpansionError) return 'error';
    throw err;
  }
}

// envVarTest: "platform | source | expected", each part trimmed; blank and # lines skipped.
{
  const env = envFromList(['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL=']);
  readVectors('envVarTest').forEach((raw, index) => {
    const line = raw.trim();
    if (raw.startsWith('#') || line === '') return;
    const parts = line.split('|');
    const lineNo = index + 1;
    test(`envVarTest:${lineNo} ${parts[1]?.trim()}`, (t) => {
      t.is(parts.length, 3, 'row must be platform|source|expected');
      const [platform, source, expected] = parts.map((p) => p.trim());
      t.true(platform === 'A' || platform === 'U', `Linux rows only, got ${platform}`);
      t.is(orError(() => lex.processWord(source, env)), expected);
      t.is(orError(() => lex.processWordWithMatches(source, env).value), expected);
    });
  });
}

// wordsTest: "source | field,field,..." ("error" when it fails); "ENV K=V" lines add to the env.
{
  const envs: string[] = [];
  readVectors('wordsTest').forEach((line, index) => {
    if (line.startsWith('#') || line === '') return;
    if (line.startsWith('ENV ')) {
      envs.push(line.slice(3).replace(/^ +/, ''));
      return;
    }
    const env = envFromList(envs);
    const parts = line.split('|');
    test(`wordsTest:${index + 1} ${parts[0]?.trim()}`, (t) => {
      t.is(parts.length, 2, 'row must be source|fields');
      const expected = parts[1].replace(/^ +/, '').split(',');
      const words = orError(() => lex.processWords(parts[0].trim(), env));
      t.deepEqual(words === 'error' ? ['error'] : words, expected);
    });
  });
}

interface MatchCase {
  input: string;
  env: Record<string, string>;
  error?: boolean;
  expected?: string;
  matched?: string[];
  unmatched?: string[];
}

{
  const { cases } = JSON.parse(readFileSync(new URL('matches.json', testdata), 'utf8')) as { cases: MatchCase[] };
  cases.forEach((c, index) => {
    test(`matches.json #${index} ${c.input} ${JSON.stringify(c.env)}`, (t) => {
      if (c.error) {
        t.throws(() => lex.processWordWithMatches(c.input, envOf(c.env)), { instanceOf: ExpansionError });
        return;
      }
      const result = lex.processWordWithMatches(c.input, envOf(c.env));
      t.is(result.value, c.expected ?? '');
      t.deepEqual([...result.matched].sort(), [...(c.matched ?? [])].sort());
      t.deepEqual([...result.unmatched].sort(), [...(c.unmatched ?? [])].sort());
    });
  });
}

test('${VAR?msg} and ${VAR:?msg} (TestShellParserMandatoryEnvVars)', (t) => {
  const set = envFromList(['VAR=plain', 'ARG=x']);
  const empty = envFromList(['VAR=', 'ARG=x']);
  const unset = envFromList(['ARG=x']);
  const noEmpty = '${VAR:?message here$ARG}';
  const noUnset = '${VAR?message here$ARG}';

  t.is(lex.processWord(noEmpty, set), 'plain');
  t.throws(() => lex.processWord(noEmpty, empty), { instanceOf: ExpansionError, message: /message herex/ });
  t.throws(() => lex.processWord(noEmpty, unset), { instanceOf: ExpansionError, message: /message herex/ });

  t.is(lex.processWord(noUnset, set), 'plain');
  t.is(lex.processWord(noUnset, empty), '');
  t.throws(() => lex.processWord(noUnset, unset), { instanceOf: ExpansionError, message: /message herex/ });
});

test('error messages read like BuildKit', (t) => {
  const env = envFromList(['EMPTY=', 'FOO=x']);
  const cases: Array<[string, string]> = [
    ['${VAR:?}', 'failed to process "${VAR:?}": VAR: is not allowed to be unset'],
    ['${EMPTY:?}', 'failed to process "${EMPTY:?}": EMPTY: is not allowed to be empty'],
    ['${VAR?oops $FOO}', 'failed to process "${VAR?oops $FOO}": VAR: oops x'],
    ['a${}', 'failed to process "a${}": syntax error: bad substitution'],
    ['${FOO:-x', `failed to process "\${FOO:-x": syntax error: missing '}'`],
    ['${FOO//x', `failed to process "\${FOO//x": syntax error: missing '/' in \${}`],
    ['${FOO:=x}', 'failed to process "${FOO:=x}": unsupported modifier (:=) in substitution'],
    ['${FOO=x}', 'failed to process "${FOO=x}": unsupported modifier (=) in substitution'],
    ["it's", 'failed to process "it\'s": unexpected end of statement while looking for matching single-quote'],
    ['say "hi', 'failed to process "say \\"hi": unexpected end of statement while looking for matching double-quote'],
    ['${FOO#\\x}', "failed to process \"${FOO#\\\\x}\": invalid pattern (\\x) in substitution: invalid escape '\\x'"],
  ];
  for (const [word, message] of cases) {
    const err = t.throws(() => lex.processWord(word, env), { instanceOf: ExpansionError, message }, word);
    t.true(err instanceof BuildError);
    t.is(err?.code, 'TSBUILD_EXPANSION');
  }
});

test('pattern escapes (TestConvertShellPatternToRegex)', (t) => {
  const env = envOf({ FOO: '*?\\()[]{}^$.|+x', STAR: 'a*b', P1: '\\', P2: '\\x', P3: '\\\\\\' });
  t.is(lex.processWord('${STAR#*}', env), 'a*b');
  t.is(lex.processWord('${STAR##*}', env), '');
  t.is(lex.processWord('${STAR#?}', env), '*b');
  t.is(lex.processWord('${STAR#a\\*}', env), 'b');
  t.is(lex.processWord('${FOO#\\*\\?\\\\()[]{\\}^$.|+}', env), 'x');
  for (const bad of ['P1', 'P2', 'P3']) {
    t.throws(() => lex.processWord(`\${STAR#$${bad}}`, env), { instanceOf: ExpansionError, message: /invalid escape/ }, bad);
  }
});

test('suffix and prefix removal count characters, not UTF-16 units (TestReverseString)', (t) => {
  const env = envOf({ FOO: '👽🚀🖖', BAR: 'a*b*c' });
  t.is(lex.processWord('${FOO%?}', env), '👽🚀');
  t.is(lex.processWord('${FOO#?}', env), '🚀🖖');
  t.is(lex.processWord('${FOO%%🚀*}', env), '👽');
  t.is(lex.processWord('${FOO//?/.}', env), '...');
  t.is(lex.processWord('${BAR%\\**}', env), 'a*b');
  t.is(lex.processWord('${BAR%%\\**}', env), 'a');
});

test('envFromList: last entry wins, bare names are set and empty (TestGetEnv)', (t) => {
  t.is(envFromList([])('foo'), undefined);
  t.is(envFromList(['foo'])('foo'), '');
  t.is(envFromList(['foo='])('foo'), '');
  t.is(envFromList(['foo=bar'])('foo'), 'bar');
  t.is(envFromList(['foo=bar', 'car=hat'])('car'), 'hat');
  t.is(envFromList(['foo=bar', 'car=hat', 'car=bike'])('car'), 'bike');
  t.is(envFromList(['a=b=c'])('a'), 'b=c');
  t.is(envFromList(['FOO=1'])('foo'), undefined);
});

test('processWords: quoted, escaped and empty fields', (t) => {
  const env = envFromList(['X=a  b', 'EMPTY=']);
  t.deepEqual(lex.processWords('a "" b', env), ['a', 'b']);
  t.deepEqual(lex.processWords('""', env), []);
  t.deepEqual(lex.processWords('$EMPTY', env), []);
  t.deepEqual(lex.processWords('"$X" $X', env), ['a  b', 'a', 'b']);
  t.deepEqual(lex.processWords("a\\ b 'c d'", env), ['a b', 'c d']);
  t.deepEqual(lex.processWords(' \t lead trail \t ', env), ['lead', 'trail']);
});

test('escape=` makes backslash literal', (t) => {
  const tick = new ShellLex('`');
  const env = envFromList(['PWD=/home', 'FOO=*x']);
  t.is(tick.processWord('he`$PWD', env), 'he$PWD');
  t.is(tick.processWord('he\\$PWD', env), 'he\\/home');
  t.is(tick.processWord('"a`"b"', env), 'a"b');
  t.is(tick.processWord('"a`b"', env), 'a`b');
  t.is(tick.processWord('C:\\dir\\file', env), 'C:\\dir\\file');
  t.deepEqual(tick.processWords('a` b c`', env), ['a b', 'c']);
  t.is(tick.processWord('${FOO#\\*}', env), 'x');
});

test('${V//p/r} follows Go ReplaceAllString: empty matches and $-templates', (t) => {
  const env = envOf({ FOO: 'foo', AB: 'ab', R0: '[$0]', RD: '$$', R1: '${1}', RX: '$x.', RB: '${0', R: '$' });
  t.is(lex.processWord('${AB//*/x}', env), 'x');
  t.is(lex.processWord('${AB//$NONE/-}', env), '-a-b-');
  t.is(lex.processWord('${FOO//o/$R0}', env), 'f[o][o]');
  t.is(lex.processWord('${FOO/o/$R0}', env), 'f[$0]o');
  t.is(lex.processWord('${FOO//o/$RD}', env), 'f$$');
  t.is(lex.processWord('${FOO//o/$R1}', env), 'f');
  t.is(lex.processWord('${FOO//o/$RX}', env), 'f..');
  t.is(lex.processWord('${FOO//o/$RB}', env), 'f${0${0');
  t.is(lex.processWord('${FOO//o/$R}', env), 'f$$');
});

test('patterns do not match across newlines, like Go regexp "."', (t) => {
  const env = envOf({ NL: 'a\nb' });
  t.is(lex.processWord('${NL#*b}', env), 'a\nb');
  t.is(lex.processWord('${NL//?/x}', env), 'x\nx');
  t.is(lex.processWord('${NL%%\n*}', env), 'a');
});

test('a leading byte-order mark is dropped', (t) => {
  t.is(lex.processWord('\uFEFF$PWD', envFromList(['PWD=/home'])), '/home');
  t.is(lex.processWord('a\uFEFF', envFromList([])), 'a\uFEFF');
});

test('matched and unmatched record lookups even inside defaults', (t) => {
  const r = lex.processWordWithMatches('${A:-${B:-$C}} $1 ${D+x}', envOf({ C: 'c', D: '' }));
  t.is(r.value, 'c  x');
  t.deepEqual([...r.matched].sort(), ['C', 'D']);
  t.deepEqual([...r.unmatched].sort(), ['1', 'A', 'B']);
});
