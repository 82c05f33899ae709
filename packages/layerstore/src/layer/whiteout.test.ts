/** Whiteout names (the tar form) and the overlay form, from their one owner. */
import { lstatSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import anyTest from 'ava';
import { tempDir } from '../testing/fstree.js';
import { isOpaque, isOpaqueMarker, isWhiteout, isWhiteoutName, makeWhiteout, markOpaque, whiteoutMeaning, whiteoutName } from './whiteout.js';

const b = (s: string) => Buffer.from(s, 'latin1');

anyTest('whiteoutName prefixes the name, bytes kept', (t) => {
  t.deepEqual(whiteoutName(b('motd')), b('.wh.motd'));
  t.deepEqual(whiteoutName(Buffer.from([0xff, 0x2e])), Buffer.from([...b('.wh.'), 0xff, 0x2e]));
});

anyTest('what each whiteout name means; the invalid ones', (t) => {
  t.true(isWhiteoutName(b('.wh.x')));
  t.true(isWhiteoutName(b('.wh.')));
  t.false(isWhiteoutName(b('.wh')));
  t.false(isWhiteoutName(b('x.wh.y')));
  t.true(isOpaqueMarker(b('.wh..wh..opq')));
  t.false(isOpaqueMarker(b('.wh..wh..opqx')));
  t.deepEqual(whiteoutMeaning(b('.wh..wh..opq')), { kind: 'opaque' });
  t.deepEqual(whiteoutMeaning(b('.wh..wh.plnk')), { kind: 'aufs-meta' });
  t.deepEqual(whiteoutMeaning(b('.wh..wh.')), { kind: 'aufs-meta' });
  t.deepEqual(whiteoutMeaning(b('.wh.motd')), { kind: 'hide', name: b('motd') });
  t.deepEqual(whiteoutMeaning(b('.wh....')), { kind: 'hide', name: b('...') });
  for (const bad of ['.wh.', '.wh..', '.wh...']) t.deepEqual(whiteoutMeaning(b(bad)), { kind: 'invalid' }, bad);
});

const rootTest = process.getuid?.() === 0 ? anyTest : anyTest.skip;

rootTest('the overlay form: a 0:0 character device, and an opaque directory', async (t) => {
  const dir = await tempDir(t);
  const w = join(dir, 'w');
  makeWhiteout(b(w));
  t.true(isWhiteout(lstatSync(w)));
  t.true(isWhiteout(lstatSync(w, { bigint: true })));
  writeFileSync(join(dir, 'f'), '');
  t.false(isWhiteout(lstatSync(join(dir, 'f'))));
  const d = join(dir, 'd');
  mkdirSync(d);
  t.false(isOpaque(b(d)));
  markOpaque(b(d));
  t.true(isOpaque(b(d)));
});

rootTest('the two overlay forms: each store reads and writes only its own opaque xattr', async (t) => {
  const dir = await tempDir(t);
  for (const [form, other] of [['trusted', 'user'], ['user', 'trusted']] as const) {
    const d = join(dir, form);
    mkdirSync(d);
    markOpaque(b(d), form);
    t.true(isOpaque(b(d), form));
    t.false(isOpaque(b(d), other), `${form} is not read as ${other}`);
  }
});
