/**
 * A store's whiteout form, decided when it is opened by trying to make a 0:0 device in
 * its tmp/: `device` on an ordinary filesystem, `xattr` on overlayfs (as a store on a
 * container's root filesystem is), and what the test switch sets.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import anyTest from 'ava';
import { LayerstoreError } from '../errors.js';
import { tempDir, withOverlay } from '../testing/fstree.js';
import { WHITEOUTS_ENV, whiteoutFormIn } from './overlay-form.js';
import { Store } from './store.js';

const test = process.getuid?.() === 0 ? anyTest : anyTest.skip;

test('device where a 0:0 device can be made, and nothing is left in tmp/', async (t) => {
  const dir = await tempDir(t);
  t.is(whiteoutFormIn(dir, {}), 'device');
  t.deepEqual(readdirSync(dir), []);
  const store = await Store.open(join(dir, 'store'), {});
  t.is(store.overlayForm.whiteout, process.env[WHITEOUTS_ENV] === 'xattr' ? 'xattr' : 'device');
  await store.close();
});

test('xattr on overlayfs, which refuses 0:0 devices: a store there records deletions as marked files', async (t) => {
  const base = await tempDir(t);
  await mkdir(join(base, 'lower'));
  await withOverlay({ lowers: [join(base, 'lower')], upper: join(base, 'upper'), work: join(base, 'work'), merged: join(base, 'merged') }, async (merged) => {
    await mkdir(join(merged, 'tmp'));
    t.is(whiteoutFormIn(join(merged, 'tmp'), {}), 'xattr');
    t.deepEqual(readdirSync(join(merged, 'tmp')), []);
    const store = await Store.open(join(merged, 'store'));
    t.is(store.overlayForm.whiteout, 'xattr');
    await store.close();
    const forced = await Store.open(join(merged, 'forced'), { overlayForm: { whiteout: 'device' } });
    t.is(forced.overlayForm.whiteout, 'device', 'a store option sets the form without trying');
    await forced.close();
  });
});

test(`${WHITEOUTS_ENV} sets the form without trying; anything else is an error naming the known forms`, async (t) => {
  const dir = await tempDir(t);
  t.is(whiteoutFormIn(dir, { [WHITEOUTS_ENV]: 'xattr' }), 'xattr');
  t.is(whiteoutFormIn(dir, { [WHITEOUTS_ENV]: 'device' }), 'device');
  t.is(whiteoutFormIn(dir, { [WHITEOUTS_ENV]: '' }), 'device', 'empty is unset');
  const err = t.throws(() => whiteoutFormIn(dir, { [WHITEOUTS_ENV]: 'chardev' }), { instanceOf: LayerstoreError });
  t.is(err?.code, 'TSBUILD_CONFIG_INVALID');
  t.is(err?.message, `${WHITEOUTS_ENV}: unknown whiteout form "chardev" (known: device, xattr)`);
  t.false(existsSync(join(dir, `.tmp-${process.pid}-whiteout-probe`)));
});
