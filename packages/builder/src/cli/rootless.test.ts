import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isolationInArgv } from './isolation-flag.js';
import { checkStoreOwner, rootlessWanted } from './rootless.js';

test('a non-root user re-executes for commands that use the store or the sandbox, with isolation auto or rootless', (t) => {
  t.true(rootlessWanted(['build', '.'], {}, 1000));
  t.true(rootlessWanted(['run', '--isolation', 'rootless', 'img'], {}, 1000));
  t.true(rootlessWanted(['images'], { TSBUILD_ISOLATION: 'auto' }, 1000));
  t.false(rootlessWanted(['build', '.'], {}, 0), 'root has the sandbox');
  t.false(rootlessWanted(['build', '--isolation=chroot', '.'], {}, 1000), 'chroot asked for: it fails outside, naming root');
  t.false(rootlessWanted(['build', '.'], { TSBUILD_ISOLATION: 'sandbox' }, 1000));
  t.false(rootlessWanted(['--version'], {}, 1000));
  t.false(rootlessWanted(['build', '--help'], {}, 1000));
  t.false(rootlessWanted(['info'], {}, 1000), 'info reports on the machine as the user sees it');
});

test('the isolation on a raw command line: the last flag wins over the environment, nothing after --', (t) => {
  t.is(isolationInArgv(['build', '--isolation', 'chroot', '--isolation=rootless', '.'], { TSBUILD_ISOLATION: 'sandbox' }), 'rootless');
  t.is(isolationInArgv(['build', '.'], { TSBUILD_ISOLATION: 'sandbox' }), 'sandbox');
  t.is(isolationInArgv(['run', 'img', '--', '--isolation', 'chroot'], {}), undefined);
});

test('a store another user owns is refused naming the owner, the path and TSBUILD_ROOT; a missing or own store is fine', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbuild-owner-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const uid = process.getuid!();
  t.notThrows(() => checkStoreOwner(dir, uid));
  t.notThrows(() => checkStoreOwner(join(dir, 'missing'), uid + 1));
  const err = t.throws(() => checkStoreOwner(dir, uid + 1));
  t.is((err as { code?: string }).code, 'TSBUILD_STORE_NOT_OWNED');
  t.regex(err!.message, new RegExp(`^the store ${dir} belongs to \\S+ \\(uid ${uid}\\), not to you \\(uid ${uid + 1}\\); rootless tsbuild keeps its own store: set TSBUILD_ROOT`));
});
