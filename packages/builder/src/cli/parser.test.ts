import test from 'ava';
import { DEFAULT_HELP_WIDTH, helpWidth } from './parser.js';

test('help width: the terminal\'s columns, else COLUMNS, else 80', (t) => {
  t.is(helpWidth({ isTTY: true, columns: 132 }, { COLUMNS: '90' }), 132);
  t.is(helpWidth({ isTTY: false }, { COLUMNS: '90' }), 90);
  t.is(helpWidth({}, {}), DEFAULT_HELP_WIDTH);
  t.is(DEFAULT_HELP_WIDTH, 80);
  for (const bad of ['', '0', '-5', 'wide', '80.5']) t.is(helpWidth({}, { COLUMNS: bad }), 80, `COLUMNS=${bad}`);
});
