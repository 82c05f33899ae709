import anyTest from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getXattr } from '../sys/libc.js';
import { tempDir } from '../testing/fstree.js';
import { OWNER_XATTR } from './owner-record.js';

const rootTest = process.getuid?.() === 0 ? anyTest : anyTest.skip;
const here = new URL('.', import.meta.url);

/**
 * Run `body` (an ES module's text, with META and DIFF bound to meta.js and diff.js) as
 * root of a user namespace that maps only id 0, as rootless tsbuild without subordinate
 * ids does: chown to any other id fails there with EINVAL.
 */
function inOwnIdNamespace(body: string): { status: number | null; stdout: string; stderr: string } {
  const script = `const META = await import(${JSON.stringify(new URL('meta.js', here).href)});\nconst DIFF = await import(${JSON.stringify(new URL('diff.js', here).href)});\n${body}`;
  const r = spawnSync('unshare', ['--user', '--map-root-user', process.execPath, '--input-type=module', '-e', script], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

rootTest('an owner the namespace cannot give is recorded, carried by copy-up, and read back by the diff', async (t) => {
  const dir = await tempDir(t);
  mkdirSync(join(dir, 'upper'));
  writeFileSync(join(dir, 'src'), 'x');
  writeFileSync(join(dir, 'upper', 'f'), 'x');
  symlinkSync('f', join(dir, 'upper', 'l'));
  const r = inOwnIdNamespace(`
    const b = (p) => Buffer.from(p);
    const dir = ${JSON.stringify(dir)};
    META.setMeta(b(dir + '/src'), { uid: 42, gid: 43, mode: 0o640, xattrs: [['user.tsbuild.owner', b('7:7')]], times: undefined });
    const fs = await import('node:fs');
    META.copyMetaSync(b(dir + '/src'), b(dir + '/upper/f'), fs.lstatSync(dir + '/src'));
    META.setMeta(b(dir + '/upper/l'), { uid: 42, gid: 43, mode: undefined, xattrs: [], times: undefined });
    const out = [];
    for await (const e of DIFF.diffEntries(dir + '/upper')) out.push([e.header.name.toString(), e.header.uid, e.header.gid, e.header.xattrs ? [...e.header.xattrs.keys()] : []]);
    console.log(JSON.stringify(out));
  `);
  t.is(r.status, 0, r.stderr);
  const entries = JSON.parse(r.stdout) as Array<[string, number, number, string[]]>;
  t.deepEqual(entries.find(([n]) => n === 'f'), ['f', 42, 43, []], 'the archive\'s own user.tsbuild.owner is never applied, and the record is not a layer xattr');
  t.deepEqual(entries.find(([n]) => n === 'l'), ['l', 0, 0, []], 'a symlink takes no user.* attribute: its owner is lost');
});

rootTest('a chown the namespace can give is made, and nothing is recorded', async (t) => {
  const dir = await tempDir(t);
  writeFileSync(join(dir, 'f'), 'x');
  const r = inOwnIdNamespace(`META.setMeta(Buffer.from(${JSON.stringify(join(dir, 'f'))}), { uid: 0, gid: 0, mode: 0o600, xattrs: [], times: undefined });`);
  t.is(r.status, 0, r.stderr);
  t.is(getXattr(join(dir, 'f'), OWNER_XATTR), undefined);
  t.is(statSync(join(dir, 'f')).mode & 0o777, 0o600);
});
