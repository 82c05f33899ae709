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

test('hasWildcard ignores escaped characters', (t) => {
  t.true(hasWildcard('src/*.js'));
  t.false(hasWildcard('src/a\\*.js'));
  t.false(hasWildcard('plain/file'));
});
