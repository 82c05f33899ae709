/**
 * Heredoc markers word by word (BuildKit's TestParseHeredocHelpers, and hostile
 * heredoc markers). Whole Dockerfiles with heredocs are golden cases in
 * fixtures/parse/heredoc-*; this table pins the one-word grammar, including forms that
 * a Dockerfile line never hands over as one word (`<<- EOF` is split in two there).
 */
import test from 'ava';
import { BuildError } from '../errors.js';
import { parseHeredocWord } from './instructions/heredoc.js';

const valid: Array<[string, { expand: boolean; chomp: boolean }]> = [
  ['<<EOF', { expand: true, chomp: false }],
  ["<<'EOF'", { expand: false, chomp: false }],
  ['<<"EOF"', { expand: false, chomp: false }],
  ['<<-EOF', { expand: true, chomp: true }],
  ["<<-'EOF'", { expand: false, chomp: true }],
  ['<<-"EOF"', { expand: false, chomp: true }],
  ['<<EO"F"', { expand: false, chomp: false }],
  ['<< EOF', { expand: true, chomp: false }],
  ['<<- EOF', { expand: true, chomp: true }],
  ['3<<EOF', { expand: true, chomp: false }],
];

for (const [word, want] of valid) {
  test(`heredoc marker ${word}`, (t) => {
    t.deepEqual(parseHeredocWord(word), { name: 'EOF', ...want });
  });
}

for (const word of ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"']) {
  test(`invalid heredoc marker ${word}`, (t) => {
    const err = t.throws(() => parseHeredocWord(word), { instanceOf: BuildError });
    t.is(err?.code, 'TSBUILD_DOCKERFILE_SYNTAX');
    t.regex(err?.message ?? '', /unexpected end of statement while looking for matching (single|double)-quote/);
  });
}

for (const word of ['', 'EOF', '<<', '<<-', '<EOF', '<<<EOF', '<<EOF sh', "<<''", 'x<<EOF']) {
  test(`not a heredoc marker: ${JSON.stringify(word)}`, (t) => {
    t.is(parseHeredocWord(word), undefined);
  });
}

test('escaped and quoted delimiters (BuildKit TestParseExtractsHeredoc)', (t) => {
  t.deepEqual(parseHeredocWord("<<eo'f'"), { name: 'eof', expand: false, chomp: false });
  t.deepEqual(parseHeredocWord("<<eo\\'f"), { name: "eo'f", expand: true, chomp: false });
  t.deepEqual(parseHeredocWord("<<'e'o\\'f"), { name: "eo'f", expand: false, chomp: false });
  t.deepEqual(parseHeredocWord("<<'one two'"), { name: 'one two', expand: false, chomp: false });
  t.deepEqual(parseHeredocWord('<<$EOF'), { name: '$EOF', expand: true, chomp: false });
  t.deepEqual(parseHeredocWord('<< -EOF'), { name: '-EOF', expand: true, chomp: false });
});
