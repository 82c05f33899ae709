import test from 'ava';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BuildError } from '../errors.js';
import { IgnoreMatcher, loadDockerignore, parseDockerignore } from './dockerignore.js';

const matcher = (...lines: string[]): IgnoreMatcher => new IgnoreMatcher(parseDockerignore(lines.join('\n')));

/** A context tree; directories end in '/'. `.dockerignore` itself is added by `walk`. */
const TREE = [
  'top', 'a/', 'a/f', 'a/b/', 'a/b/f', 'a/b/c/', 'a/b/c/f', 'a/x.go', 'a/b/y.go', 'b/', 'b/f', 'b/keep/',
  'b/keep/k', 'docs/', 'docs/README.md', 'docs/x.md', 'x.env', 'keep.env', 'sub/', 'sub/dir/',
  'sub/dir/secretX', 'sub/s.env', 'secret.txt', 'foo/', 'foo/bar2', 'foo2', 'bar', 'bay', 'baz', 'a5',
  '.hidden', 'Dockerfile',
];

/**
 * What BuildKit's sender would put in the context: a pre-order walk that skips excluded
 * directories when allowed and emits an excluded directory only for a kept descendant.
 */
function walk(ignore: string, tree = TREE): string[] {
  const m = new IgnoreMatcher(parseDockerignore(ignore));
  const entries = [...tree, '.dockerignore'];
  const dirs = new Set(entries.filter((e) => e.endsWith('/')).map((e) => e.slice(0, -1)));
  const children = new Map<string, string[]>();
  for (const e of entries) {
    const p = e.replace(/\/$/, '');
    const parent = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
    children.set(parent, [...(children.get(parent) ?? []), p]);
  }
  const out: string[] = [];
  const pending: string[] = [];
  const visit = (dir: string): void => {
    for (const child of (children.get(dir) ?? []).sort()) {
      const isDir = dirs.has(child);
      const name = isDir ? `${child}/` : child;
      if (!m.excludes(child)) {
        out.push(...pending.splice(0), name);
        if (isDir) visit(child);
      } else if (isDir && !m.canSkipDir(child)) {
        pending.push(name);
        visit(child);
        if (pending[pending.length - 1] === name) pending.pop();
      }
    }
  };
  visit('');
  return out;
}

const missing = (ignore: string): string[] => {
  const kept = new Set(walk(ignore));
  return [...TREE, '.dockerignore'].filter((e) => !kept.has(e)).sort();
};

// Hostile .dockerignore content.
const CASE_82 = ['\uFEFF# comment', '  *.env  ', '!keep.env', '/abs/path', 'a/../b', '**/secret*', '!', '['];

test('case 82: BOM, comment, trimming, cleaning, leading slash', (t) => {
  const patterns = parseDockerignore(CASE_82.slice(0, 6).join('\n'));
  t.deepEqual(patterns, [
    { text: '*.env', exclusion: false, line: 2 },
    { text: 'keep.env', exclusion: true, line: 3 },
    { text: 'abs/path', exclusion: false, line: 4 },
    { text: 'b', exclusion: false, line: 5 },
    { text: '**/secret*', exclusion: false, line: 6 },
  ]);
  // Observed with docker build (COPY . /ctx, then find /ctx):
  const tree = ['# comment', '# x/', '# x/f', 'a/', 'a/f', 'abs/', 'abs/path/', 'abs/path/f', 'b/', 'b/f', 'keep.env',
    'keep/', 'keep/f', 'secret.txt', 'sub/', 'sub/dir/', 'sub/dir/secretX', 'sub/s.env', 'x.env'];
  t.deepEqual(walk(CASE_82.slice(0, 6).join('\n'), tree).sort(), ['# comment', '# x/', '# x/f', '.dockerignore', 'a/', 'a/f',
    'abs/', 'keep.env', 'keep/', 'keep/f', 'sub/', 'sub/dir/', 'sub/s.env']);
});

test('case 82: `!` alone and `[` are errors naming file:line', (t) => {
  const bang = t.throws(() => parseDockerignore(CASE_82.join('\n')), { instanceOf: BuildError })!;
  t.is(bang.code, 'TSBUILD_DOCKERIGNORE');
  t.deepEqual(bang.location, { file: '.dockerignore', startLine: 7, endLine: 7 });
  t.is(String(bang), '.dockerignore:7: illegal exclusion pattern: "!"');
  const bracket = t.throws(() => parseDockerignore([...CASE_82.slice(0, 6), '[', '!'].join('\n'), 'ctx/.dockerignore'), {
    instanceOf: BuildError,
  })!;
  t.regex(String(bracket), /^ctx\/\.dockerignore:7: syntax error in pattern "\["/);
});

test('ignorefile.ReadAll cases', (t) => {
  const text = 'test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n';
  t.deepEqual(
    parseDockerignore(text).map((p) => `${p.exclusion ? '!' : ''}${p.text}@${p.line}`),
    ['test1@1', 'test2@2', 'a/file/here@3', 'lastfile@5', '!inverted/abs/path@7'],
  );
  t.deepEqual(parseDockerignore(''), []);
  for (const [text, line] of [['a\n!\n', 2], ['a\n! \n', 2], ['!/', 1]] as const) {
    const err = t.throws(() => parseDockerignore(text), { instanceOf: BuildError });
    t.is(err?.location?.startLine, line, JSON.stringify(text));
  }
});

test('line format details', (t) => {
  const texts = (s: string): string[] => parseDockerignore(s).map((p) => p.text);
  t.deepEqual(texts('  # x\n#y\n'), ['# x'], 'only a # in column 1 starts a comment');
  t.deepEqual(texts('#x\r\n*.env\r\n\r\n'), ['*.env']);
  t.deepEqual(texts('\u0085top\u00a0\n\t bar \v\n'), ['top', 'bar'], "Go's white space");
  t.deepEqual(texts('x\n\uFEFFtop\n'), ['x', '\uFEFFtop'], 'BOM is stripped on line 1 only');
  t.deepEqual(texts('/\n../a\na/./b/../c/\n//d\n!  /e\n!./f\n!a/..\n'), ['/', '../a', 'a/c', 'd', 'e', 'f', '.']);
  t.deepEqual(parseDockerignore('a\n!b').map((p) => p.exclusion), [false, true]);
  const long = t.throws(() => parseDockerignore(`a\n${'x'.repeat(65536)}\n`), { instanceOf: BuildError });
  t.is(long?.location?.startLine, 2);
  t.notThrows(() => parseDockerignore('x'.repeat(65535)));
});

// moby/patternmatcher TestMatches: [pattern, path, matches (the path or a parent dir)].
const MATCHES: [string, string, boolean][] = [
  ['**', 'file', true], ['**', 'file/', true], ['**/', 'file', true], ['**/', 'file/', true], ['**', '/', true],
  ['**/', '/', true], ['**', 'dir/file', true], ['**/', 'dir/file', true], ['**', 'dir/file/', true],
  ['**/', 'dir/file/', true], ['**/**', 'dir/file', true], ['**/**', 'dir/file/', true], ['dir/**', 'dir/file', true],
  ['dir/**', 'dir/file/', true], ['dir/**', 'dir/dir2/file', true], ['dir/**', 'dir/dir2/file/', true],
  ['**/dir', 'dir', true], ['**/dir', 'dir/file', true], ['**/dir2/*', 'dir/dir2/file', true],
  ['**/dir2/*', 'dir/dir2/file/', true], ['**/dir2/**', 'dir/dir2/dir3/file', true],
  ['**/dir2/**', 'dir/dir2/dir3/file/', true], ['**file', 'file', true], ['**file', 'dir/file', true],
  ['**/file', 'dir/file', true], ['**file', 'dir/dir/file', true], ['**/file', 'dir/dir/file', true],
  ['**/file*', 'dir/dir/file', true], ['**/file*', 'dir/dir/file.txt', true], ['**/file*txt', 'dir/dir/file.txt', true],
  ['**/file*.txt', 'dir/dir/file.txt', true], ['**/file*.txt*', 'dir/dir/file.txt', true],
  ['**/**/*.txt', 'dir/dir/file.txt', true], ['**/**/*.txt2', 'dir/dir/file.txt', false], ['**/*.txt', 'file.txt', true],
  ['**/**/*.txt', 'file.txt', true], ['a**/*.txt', 'a/file.txt', true], ['a**/*.txt', 'a/dir/file.txt', true],
  ['a**/*.txt', 'a/dir/dir/file.txt', true], ['a/*.txt', 'a/dir/file.txt', false], ['a/*.txt', 'a/file.txt', true],
  ['a/*.txt**', 'a/file.txt', true], ['a[b-d]e', 'ae', false], ['a[b-d]e', 'ace', true], ['a[b-d]e', 'aae', false],
  ['a[^b-d]e', 'aze', true], ['.*', '.foo', true], ['.*', 'foo', false], ['abc.def', 'abcdef', false],
  ['abc.def', 'abc.def', true], ['abc.def', 'abcZdef', false], ['abc?def', 'abcZdef', true], ['abc?def', 'abcdef', false],
  ['**/foo/bar', 'foo/bar', true], ['**/foo/bar', 'dir/foo/bar', true], ['**/foo/bar', 'dir/dir2/foo/bar', true],
  ['abc/**', 'abc', false], ['abc/**', 'abc/def', true], ['abc/**', 'abc/def/ghi', true], ['**/.foo', '.foo', true],
  ['**/.foo', 'bar.foo', false], ['a(b)c/def', 'a(b)c/def', true], ['a(b)c/def', 'a(b)c/xyz', false],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', true],
  ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', true], ['a\\\\', 'a\\', true], ['a\\*b', 'a*b', true],
];

test('patternmatcher TestMatches table', (t) => {
  for (const [pattern, p, want] of MATCHES) t.is(matcher(pattern).excludes(p), want, `${pattern} ~ ${p}`);
});

test('patternmatcher multi-pattern table and exclusion order', (t) => {
  const cases: [string[], string, boolean][] = [
    [['**', '!util/docker/web'], 'util/docker/web/foo', false],
    [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', true],
    [['**', '!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
    [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
    [['*'], 'fileutils.go', true], [['*.go'], 'fileutils.go', true], [['!fileutils.go', '*.go'], 'fileutils.go', true],
    [['*.go', '!fileutils.go'], 'fileutils.go', false], [['docs', '!docs/README.md'], 'docs/README.md', false],
    [['docs/', '!docs/README.md'], 'docs/README.md', false], [['docs/*', '!docs/README.md'], 'docs/README.md', false],
    [['*.go'], '.', false], [[], 'any/path/there', false],
  ];
  for (const [patterns, p, want] of cases) t.is(matcher(...patterns).excludes(p), want, `${patterns.join(',')} ~ ${p}`);
  t.true(matcher().empty);
  t.false(matcher('a').empty);
});

// Go's filepath.Match tests as ported by patternmatcher: [pattern, path, result].
const GO_MATCH: [string, string, boolean | 'error'][] = [
  ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'abc', true],
  ['a*', 'ab/c', true], ['a*/b', 'abc/b', true], ['a*/b', 'a/c/b', false], ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true], ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
  ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false], ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false], ['ab[c]', 'abc', true], ['ab[b-d]', 'abc', true], ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false], ['ab[^b-d]', 'abc', false], ['ab[^e-g]', 'abc', true], ['a\\*b', 'a*b', true],
  ['a\\*b', 'ab', false], ['a?b', 'a☺b', true], ['a[^a]b', 'a☺b', true], ['a???b', 'a☺b', false],
  ['a[^a][^a][^a]b', 'a☺b', false], ['[a-ζ]*', 'α', true], ['*[a-ζ]', 'A', false], ['a?b', 'a/b', false],
  ['a*b', 'a/b', false], ['[\\]a]', ']', true], ['[\\-]', '-', true], ['[x\\-]', 'x', true], ['[x\\-]', '-', true],
  ['[x\\-]', 'z', false], ['[\\-x]', 'x', true], ['[\\-x]', '-', true], ['[\\-x]', 'a', false], ['[]a]', ']', 'error'],
  ['[-]', '-', 'error'], ['[x-]', 'x', 'error'], ['[-x]', 'x', 'error'], ['\\', 'a', 'error'], ['[a-b-c]', 'a', 'error'],
  ['[', 'a', 'error'], ['[^', 'a', 'error'], ['[^bc', 'a', 'error'], ['a[', 'a', 'error'], ['*x', 'xxx', true],
];

test('filepath.Match table', (t) => {
  for (const [pattern, p, want] of GO_MATCH) {
    if (want === 'error') t.throws(() => matcher(pattern), { instanceOf: BuildError }, pattern);
    else t.is(matcher(pattern).excludes(p), want, `${pattern} ~ ${p}`);
  }
});

test('the glob becomes a Go regexp: its escapes and classes count', (t) => {
  // [pattern, path, result]; all of these were observed with docker build except \PN (\Q eats the final $ too).
  const cases: [string, string, boolean][] = [
    ['a\\d', 'a5', true], ['a\\d', 'ad', false], ['a\\b', 'a', true], ['a\\b', 'ab', false],
    ['a\\x35', 'a5', true], ['\\141?', 'a5', true], ['a[\\d]', 'a5', true], ['?\\d', 'a5', true],
    ['a[[:digit:]]', 'a5', true], ['b[[:alpha:]]r', 'bar', true], ['[[:^digit:]]5', 'a5', true],
    ['a[^0-9]', 'a5', false], ['a[^0-9]', 'aZ', true], ['a[!x]', 'ax', true], ['a[!x]', 'a!', true],
    ['a[!x]', 'ay', false], ['a[/]b', 'a/b', true], ['a[*]', 'a*', false], ['a\\$', 'a$', true],
    ['a\\pL', 'aZ', true], ['a\\pL', 'a5', false], ['a\\PN', 'aZ', true], ['a\\PN', 'a5', false],
    ['a\\Qb', 'ab', false], ['a\\Qb', 'ab$', true], ['aZ\\Q', 'aZ', false],
    ['a\\Q.*', 'a.*', false], ['a.b*', 'a.bc', true], ['a.b*', 'axbc', false],
  ];
  for (const [pattern, p, want] of cases) t.is(matcher(pattern).excludes(p), want, `${pattern} ~ ${p}`);
  for (const bad of ['a[z-a]', 'a\\é', '[[:nope:]]', 'a\\C*', '\\8*', 'a\\p{L}', 'a\\pX', '[\\b]*']) {
    t.throws(() => matcher(bad), { instanceOf: BuildError, message: /syntax error in pattern/ }, bad);
  }
});

// Contexts built with `docker build` (COPY . /ctx; find /ctx) from TREE: [.dockerignore, what was missing].
const DOCKER_OBSERVED: [string, string[] | 'error'][] = [
  ['a\n!a/b/f\n', ['a/f', 'a/b/c/', 'a/b/c/f', 'a/x.go', 'a/b/y.go']],
  ['**/f\n', ['a/f', 'a/b/f', 'a/b/c/f', 'b/f']],
  ['a/**\n!a/b/**\n', ['a/f', 'a/x.go']],
  ['*/f\n', ['a/f', 'b/f']],
  ['**/*.md\n!docs/README.md\n', ['docs/x.md']],
  ['*.go\n', []],
  ['a/**/f\n', ['a/f', 'a/b/f', 'a/b/c/f']],
  ['b\n!b/keep\n', ['b/f']],
  ['b/*\n!b/keep/k\n', ['b/f']],
  ['**/b\n', ['a/b/', 'a/b/f', 'a/b/c/', 'a/b/c/f', 'a/b/y.go', 'b/', 'b/f', 'b/keep/', 'b/keep/k']],
  ['a**\n', ['a/', 'a/f', 'a/b/', 'a/b/f', 'a/b/c/', 'a/b/c/f', 'a/x.go', 'a/b/y.go', 'a5']],
  ['**a\n', ['a/', 'a/f', 'a/b/', 'a/b/f', 'a/b/c/', 'a/b/c/f', 'a/x.go', 'a/b/y.go']],
  ['.*\n', ['.hidden', '.dockerignore']],
  ['ba*\nDockerfile\n!bay\n.dockerignore\n', ['bar', 'baz', 'Dockerfile', '.dockerignore']],
  ['foo*\n!foo/bar2\n', ['foo2']],
  ['a\n!a/b\na/b/c\n!a/b/c/f\n', ['a/f', 'a/x.go']],
  ['**/b/**\n', ['a/b/f', 'a/b/c/', 'a/b/c/f', 'a/b/y.go', 'b/f', 'b/keep/', 'b/keep/k']],
  ['*/b/\n', ['a/b/', 'a/b/f', 'a/b/c/', 'a/b/c/f', 'a/b/y.go']],
  ['a/./b/../b\n', ['a/b/', 'a/b/f', 'a/b/c/', 'a/b/c/f', 'a/b/y.go']],
  ['../a\n', []],
  ['!a\n', []],
  ['a[/]b\n', ['a/b/', 'a/b/f', 'a/b/c/', 'a/b/c/f', 'a/b/y.go']],
  ['**/c\n!a/b/c/f\n', []],
  ['\u0085top\n', ['top']],
  ['docs/\n', ['docs/', 'docs/README.md', 'docs/x.md']],
  ['\tbar\t\r\n', ['bar']],
  ['foo2 # not a comment\n', []],
  ['  # comment-like\n', []],
  ['/\n', []],
  ['#x\r\n*.env\r\n', ['x.env', 'keep.env']],
  ['a\\b\n', ['a/', 'a/f', 'a/b/', 'a/b/f', 'a/b/c/', 'a/b/c/f', 'a/x.go', 'a/b/y.go']],
  ['a\n[\n', 'error'], ['!\n', 'error'], ['!/\n', 'error'], ['a[z-a]\n', 'error'], ['a\\é\n', 'error'],
];

// Everything is excluded but these (the rest of TREE and .dockerignore).
const DOCKER_OBSERVED_KEPT: [string, string[]][] = [
  ['*\n!a/b\n', ['a/', 'a/b/', 'a/b/c/', 'a/b/c/f', 'a/b/f', 'a/b/y.go']],
  ['*\n!*.env\n', ['keep.env', 'x.env']],
  ['*\n!.dockerignore\n', ['.dockerignore']],
  ['*\n!  top\n', ['top']],
];

test('contexts observed with docker build', (t) => {
  for (const [ignore, want] of DOCKER_OBSERVED) {
    if (want === 'error') t.throws(() => walk(ignore), { instanceOf: BuildError }, JSON.stringify(ignore));
    else t.deepEqual(missing(ignore), [...want].sort(), JSON.stringify(ignore));
  }
  for (const [ignore, want] of DOCKER_OBSERVED_KEPT) t.deepEqual(walk(ignore).sort(), want.sort(), JSON.stringify(ignore));
});

/**
 * Where today's BuildKit differs from the docker 20.10 on the test machine (its CLI
 * walks with the old fileutils.Matches and skips directories without checking for
 * wildcards). Expected values follow fsutil's current walker; `was` is what 20.10 did.
 */
const BUILDKIT_NOW: { ignore: string; missing?: string[]; kept?: string[]; was: string }[] = [
  // Wildcard exceptions are looked for under excluded directories (docker/cli#2919).
  { ignore: '*\n!**/*.go\n', kept: ['a/', 'a/b/', 'a/b/y.go', 'a/x.go'], was: 'nothing kept' },
  { ignore: '*\n!a/**/*.go\n', kept: ['a/', 'a/b/', 'a/b/y.go', 'a/x.go'], was: 'a/b/y.go missing' },
  { ignore: '**\n!**/*.go\n', kept: ['a/', 'a/b/', 'a/b/y.go', 'a/x.go'], was: 'nothing kept' },
  // An excluded directory is sent only for a kept descendant.
  { ignore: '!a\na\n', missing: ['a/', 'a/f', 'a/b/', 'a/b/f', 'a/b/c/', 'a/b/c/f', 'a/x.go', 'a/b/y.go'], was: 'empty a/ sent' },
  // Per-directory match records: an inclusion skipped at `a` is not retried below it...
  { ignore: 'a\n!a/b\na\n', missing: ['a/f', 'a/x.go'], was: 'a/b/ sent empty' },
  // ...and an exception skipped at `a` (nothing excluded yet) does not re-include `a/b`.
  { ignore: 'a/b\n!a\n', missing: ['a/b/', 'a/b/f', 'a/b/c/', 'a/b/c/f', 'a/b/y.go'], was: 'nothing missing' },
  // A BOM starting a later line stays part of a literal pattern (20.10 compiled it away).
  { ignore: 'x\n\uFEFFtop\n', missing: [], was: 'top missing' },
];

test('contexts as current BuildKit sends them', (t) => {
  for (const { ignore, missing: gone, kept, was } of BUILDKIT_NOW) {
    const label = `${JSON.stringify(ignore)} (docker 20.10: ${was})`;
    if (kept) t.deepEqual(walk(ignore).sort(), kept.sort(), label);
    if (gone) t.deepEqual(missing(ignore), gone.sort(), label);
  }
});

test('BuildKit integration cases (testDockerignore, fsutil walker tests)', (t) => {
  const files = ['Dockerfile', 'foo', 'bar', 'baz', 'bay'];
  t.deepEqual(walk('\nba*\nDockerfile\n!bay\n.dockerignore\n', files), ['bay', 'foo']);
  t.deepEqual(walk('foo*\n!foo/bar2', ['bar', 'foo/', 'foo2', 'foo/bar2']), ['.dockerignore', 'bar', 'foo/', 'foo/bar2']);
  t.deepEqual(walk('foo\n!foo/bar', ['foo/', 'foo/bar']), ['.dockerignore', 'foo/', 'foo/bar']);
  const deep = ['a/', 'a/b/', 'a/b/c/', 'a/b/c/include.txt', 'a/b/c/exclude.txt'];
  t.deepEqual(walk('**/c\n!a/b/c/include.txt\n.dockerignore', deep), ['a/', 'a/b/', 'a/b/c/', 'a/b/c/include.txt']);
});

test('canSkipDir: only when no exception could re-include a descendant', (t) => {
  t.true(matcher('a').canSkipDir('a'));
  t.true(matcher('a', '!b/c').canSkipDir('a'));
  t.false(matcher('a', '!a/b/c').canSkipDir('a'));
  t.false(matcher('a', '!a/b/c').canSkipDir('a/b'));
  t.true(matcher('a', '!a/b/c').canSkipDir('a/x'));
  t.true(matcher('a', '!ab').canSkipDir('a'), 'a sibling sharing a prefix is not below');
  t.false(matcher('a', '!a/*').canSkipDir('a'), 'a trailing /* is stripped, a/ remains');
  t.false(matcher('a', '!a/**').canSkipDir('a'));
  t.false(matcher('a', '!x/*.go').canSkipDir('a'), 'any wildcard in an exception forbids skipping');
  t.false(matcher('a', '!x\\?').canSkipDir('a'));
  t.false(matcher('*', '!a').canSkipDir('a'));
});

test('excludes() takes parents into account and is independent of call order', (t) => {
  const m = matcher('a', '!a/b', 'a/b/c');
  t.deepEqual(['a/b/c/d', 'a/b/c', 'a/b', 'a', 'a/x'].map((p) => m.excludes(p)), [true, true, false, true, true]);
  t.false(m.excludes(''));
});

async function tempTree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tsbuild-ignore-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    if (content.startsWith('->')) await symlink(content.slice(2), path.join(dir, name));
    else await writeFile(path.join(dir, name), content);
  }
  return dir;
}

test('loadDockerignore: <Dockerfile>.dockerignore wins, even empty; else .dockerignore', async (t) => {
  const dir = await tempTree({ '.dockerignore': 'bar\n', 'Dockerfile.dockerignore': 'foo\n', 'sub/Dockerfile2.dockerignore': '' });
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const first = await loadDockerignore(dir, path.join(dir, 'Dockerfile'));
  t.is(first.file, path.join(dir, 'Dockerfile.dockerignore'));
  t.true(first.matcher.excludes('foo'));
  t.false(first.matcher.excludes('bar'));
  const second = await loadDockerignore(dir, path.join(dir, 'Dockerfile2'));
  t.is(second.file, path.join(dir, '.dockerignore'));
  t.true(second.matcher.excludes('bar'));
  const empty = await loadDockerignore(dir, path.join(dir, 'sub/Dockerfile2'));
  t.is(empty.file, path.join(dir, 'sub/Dockerfile2.dockerignore'));
  t.true(empty.matcher.empty);
  const none = await loadDockerignore(path.join(dir, 'sub'), path.join(dir, 'sub/Dockerfile'));
  t.is(none.file, undefined);
  t.true(none.matcher.empty);
});

test('loadDockerignore: symlinks resolve inside the directory; errors name the file', async (t) => {
  const dir = await tempTree({
    'ctx/.dockerignore': '->/etc/ignore',
    'ctx/etc/ignore': 'inside\n',
    'df/Dockerfile.dockerignore': 'ok\n!\n',
    'dir/.dockerignore/x': '',
  });
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { matcher: m } = await loadDockerignore(path.join(dir, 'ctx'), path.join(dir, 'ctx/Dockerfile'));
  t.true(m.excludes('inside'), 'an absolute link target is taken relative to the context');
  const err = await t.throwsAsync(loadDockerignore(path.join(dir, 'ctx'), path.join(dir, 'df/Dockerfile')), {
    instanceOf: BuildError,
  });
  t.is(String(err), 'Dockerfile.dockerignore:2: illegal exclusion pattern: "!"');
  const asDir = await loadDockerignore(path.join(dir, 'dir'), path.join(dir, 'dir/Dockerfile'));
  t.true(asDir.matcher.empty, 'a directory named .dockerignore counts as absent');
});
