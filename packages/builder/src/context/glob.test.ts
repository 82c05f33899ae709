import test from 'ava';
import { hasWildcard, matchComponent } from './glob.js';

const cases: Array<[string, string, boolean]> = [
  ['*.txt', 'a.txt', true],
  ['*.txt', 'a.txtx', false],
  ['a?c', 'abc', true],
  ['a?c', 'ac', false],
  ['[a-c]x', 'bx', true],
  ['[a-c]x', 'dx', false],
  ['[^a-c]x', 'dx', true],
  ['[^a-c]x', 'ax', false],
  ['[]]', ']', true],
  ['[\\-]', '-', true],
  ['\\*', '*', true],
  ['\\*', 'a', false],
  ['a.b', 'axb', false],
  ['(x)', '(x)', true],
  ['*', '.hidden', true],
  ['[z-a]', 'm', false],
  ['a[z-a]', 'a', false],
  ['[^z-a]', 'm', true],
  ['?', '☺', true],
  ['a?b', 'a\u{1F600}b', true],
  ['[☺]', '☺', true],
  ['*b*', 'abc', true],
  ['*b*c', 'abxbyc', true],
  ['*b*c', 'abxbyd', false],
];

for (const [pattern, name, want] of cases) {
  test(`${pattern} ${want ? 'matches' : 'does not match'} ${name}`, (t) => {
    t.is(matchComponent(pattern, name), want);
  });
}

test('malformed patterns are errors', (t) => {
  t.throws(() => matchComponent('[ab', 'a'), { message: /syntax error in pattern/ });
  t.throws(() => matchComponent('ab\\', 'a'), { message: /syntax error in pattern/ });
});

test('a reversed range matches nothing, like filepath.Match (not a RegExp SyntaxError)', (t) => {
  t.notThrows(() => matchComponent('[9-0]*', 'x'));
});

test('stars do not backtrack exponentially: *a*a*a*a*a*a*a*b against a×200 is a quick no', (t) => {
  t.false(matchComponent('*a*a*a*a*a*a*a*b', 'a'.repeat(200)));
  t.true(matchComponent('*a*a*a*a*a*a*a*b', `${'a'.repeat(200)}b`));
  t.false(matchComponent(`${'*a'.repeat(2000)}b`, 'a'.repeat(4000)));
});

test('hasWildcard ignores escaped characters', (t) => {
  t.true(hasWildcard('src/*.js'));
  t.false(hasWildcard('src/a\\*.js'));
  t.false(hasWildcard('plain/file'));
});
