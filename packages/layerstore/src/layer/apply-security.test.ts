/**
 * Hostile layers against applyTar, with the victim harness (src/testing/victim.ts): breakouts
 * through names, symlinks and hardlinks, each case in 'delete' and in 'overlay' mode. Whiteouts,
 * devices, modes and odd headers are in apply-security-entries.test.ts.
 */
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { dir, file, hardlink, symlink } from '../testing/tarbuild.js';
import { runBreakout, type BreakoutCase } from '../testing/victim.js';
import { at, exists, sameInode, text } from '../testing/victim-checks.js';

const passwdSha = async () => createHash('sha256').update(await readFile('/etc/passwd')).digest('hex');
const HOST_PASSWD = await passwdSha();

const cases: BreakoutCase[] = [
  { id: '1', title: 'dot-dot name', layer: [file('../victim/dotdot', 'pwned')], expect: 'reject' },
  { id: '2', title: 'slash-dot-dot name', layer: [file('/../victim/slash-dotdot', 'pwned')], expect: 'reject' },
  { id: '3a', title: 'bare .. entry', layer: [file('..', 'pwned')], expect: 'reject' },
  { id: '3b', title: '../pwned', layer: [file('../pwned', 'pwned')], expect: 'reject' },
  { id: '3c', title: '../../pwned', layer: [file('../../pwned', 'pwned')], expect: 'reject' },
  {
    id: '4',
    title: 'absolute name is root-relative',
    layer: [file('/tmp/x', 'ok')],
    expect: 'ok',
    check: async (t, h) => t.is(await text(h, 'tmp/x'), 'ok'),
  },
  {
    id: '5',
    title: 'absolute symlink then write-through',
    layer: (h) => [symlink('esc', h.victim), file('esc/f', 'pwned')],
    expect: 'either',
    check: async (t, h) => t.is(await text(h, join(h.victim, 'f')), 'pwned'),
  },
  {
    id: '6',
    title: 'relative symlink escape then write',
    layer: [symlink('loophole-victim', '../victim'), file('loophole-victim/file', 'pwned')],
    expect: 'either',
    check: async (t, h) => t.is(await text(h, 'victim/file'), 'pwned'),
  },
  {
    id: '7',
    title: 'symlink deeper in the path',
    layer: [symlink('dir/loophole', '../../victim'), file('dir/loophole/newdir/newfile', 'pwned')],
    expect: 'either',
    check: async (t, h) => t.is(await text(h, 'victim/newdir/newfile'), 'pwned'),
  },
  {
    id: '9',
    title: 'symlinks at a victim are data only',
    layer: [symlink('dotdot', '../victim/hello'), symlink('dotdot2', '/../victim/hello')],
    expect: 'ok',
    check: async (t, h) => {
      t.is(await readlink(at(h, 'dotdot')), '../victim/hello');
      t.is(await readlink(at(h, 'dotdot2')), '/../victim/hello');
    },
  },
  { id: '10', title: 'hardlink to an absolute host path', layer: [hardlink('hl', '/etc/passwd')], expect: 'reject' },
  {
    id: '11',
    title: 'hardlink with ..',
    layer: [dir('etc'), file('etc/passwd', 'inside'), hardlink('hl2', '../../../../../etc/passwd')],
    expect: 'either',
    check: async (t, h) => sameInode(t, h, 'hl2', 'etc/passwd'),
  },
  {
    id: '12',
    title: 'hardlink through a symlinked parent',
    layer: [dir('etc'), file('etc/passwd', 'inside'), symlink('localetc', '/etc'), hardlink('localpasswd', '/localetc/passwd')],
    expect: 'ok',
    check: async (t, h) => {
      await sameInode(t, h, 'localpasswd', 'etc/passwd');
      t.is(await text(h, 'localpasswd'), 'inside');
    },
  },
  {
    id: '14a',
    title: 'hardlink to a directory outside, then write into it',
    layer: [hardlink('loophole-victim', '../victim'), file('loophole-victim/file', 'pwned')],
    expect: 'reject',
  },
  {
    id: '14b',
    title: 'hardlink to a directory outside, then symlink through it',
    layer: [hardlink('loophole-victim', '../victim'), symlink('symlink', 'loophole-victim/hello')],
    expect: 'reject',
  },
  {
    id: '14c',
    title: 'hardlink to a directory outside, then hardlink through it',
    layer: [hardlink('loophole-victim', '../victim'), hardlink('hardlink', 'loophole-victim/hello')],
    expect: 'reject',
  },
  {
    id: '14d',
    title: 'hardlink to a directory outside, then replace it',
    layer: [hardlink('loophole-victim', '../victim'), file('loophole-victim', 'pwned')],
    expect: 'reject',
  },
  {
    id: '14e',
    title: 'hardlink to a directory inside',
    lower: [dir('somedir'), file('somedir/f', 'x')],
    layer: [hardlink('dirlink', 'somedir')],
    expect: 'reject',
  },
  {
    id: '15',
    title: 'prefix-sibling containment',
    setup: async (h) => {
      await mkdir(join(h.base, 'dest-evil'));
      await writeFile(join(h.base, 'dest-evil', 'secret'), 'secret');
    },
    layer: [hardlink('grab', '../dest-evil/secret')],
    expect: 'reject',
  },
  {
    id: '16a',
    title: 'hardlink to a symlink links the symlink',
    layer: [symlink('symlink1', 'regfile'), hardlink('symlink2', 'symlink1'), file('regfile', 'data')],
    expect: 'ok',
    check: async (t, h) => {
      t.true((await lstat(at(h, 'symlink2'))).isSymbolicLink());
      t.is(await readlink(at(h, 'symlink2')), 'regfile');
      await sameInode(t, h, 'symlink1', 'symlink2');
    },
  },
  {
    id: '16b',
    title: 'hardlink to an absolute symlink, then the target is written',
    layer: [dir('etc'), symlink('localpasswd', '/etc/passwd'), hardlink('localpasswd-dup', 'localpasswd'), file('/etc/passwd', 'after')],
    expect: 'ok',
    check: async (t, h) => {
      t.is(await readlink(at(h, 'localpasswd-dup')), '/etc/passwd');
      t.is(await text(h, 'etc/passwd'), 'after');
      t.is(await passwdSha(), HOST_PASSWD, 'host /etc/passwd untouched');
    },
  },
  {
    id: '17',
    title: 'chmod does not follow symlinks',
    setup: async (h) => {
      await writeFile(join(h.base, 'perm400'), 'x');
      await chmod(join(h.base, 'perm400'), 0o400);
      await writeFile(join(h.base, 'also-exists-outside-root'), 'y');
    },
    layer: (h) => [symlink(join(h.base, 'also-exists-outside-root'), join(h.base, 'perm400')), hardlink('sketchylink', join(h.base, 'also-exists-outside-root'))],
    expect: 'either',
    check: async (t, h) => {
      t.true((await lstat(at(h, 'sketchylink'))).isSymbolicLink());
      await sameInode(t, h, 'sketchylink', join(h.base, 'also-exists-outside-root'));
    },
  },
  {
    id: '19a',
    title: 'directory entry over an existing symlink, then a hardlink below it',
    lower: [dir('etc'), file('etc/passwd', 'lower'), symlink('localetc', '/etc')],
    layer: [dir('localetc'), hardlink('localetc/localpasswd', '/etc/passwd')],
    expect: 'ok',
    check: async (t, h) => {
      t.true((await lstat(at(h, 'localetc'))).isDirectory());
      await sameInode(t, h, 'localetc/localpasswd', 'etc/passwd');
      t.is(await text(h, 'localetc/localpasswd'), 'lower');
    },
  },
  {
    id: '19b',
    title: 'symlink over an existing directory',
    lower: [dir('localetc'), file('localetc/old', 'x')],
    layer: [symlink('localetc', '/etc')],
    expect: 'ok',
    check: async (t, h) => {
      t.is(await readlink(at(h, 'localetc')), '/etc');
      t.false(await exists(h, 'etc/old'));
    },
  },
  {
    id: '19c',
    title: 'relative symlink over an existing directory',
    lower: [dir('etc'), dir('localetc'), file('localetc/old', 'x')],
    layer: [symlink('localetc', 'etc')],
    expect: 'ok',
    check: async (t, h) => {
      t.is(await readlink(at(h, 'localetc')), 'etc');
      t.false(await exists(h, 'etc/old'));
    },
  },
  {
    id: '20',
    title: 'lower-layer absolute symlink is followed inside the root',
    lower: [file('run/source', 'src')],
    layer: [file('var/run/existing/non-existing/file', 'content'), hardlink('var/run/link', 'var/run/source')],
    expect: 'ok',
    check: async (t, h) => {
      t.is(await text(h, 'run/existing/non-existing/file'), 'content');
      t.is(await readlink(at(h, 'var/run')), '/run');
      await sameInode(t, h, 'run/link', 'run/source');
      t.is(await text(h, 'opt/keep'), 'keep');
    },
  },
  {
    id: '21',
    title: 'lower-layer relative symlink is followed',
    layer: [file('lib/systemd/system/container.service', 'unit')],
    expect: 'ok',
    check: async (t, h) => {
      t.is(await text(h, 'usr/lib/systemd/system/container.service'), 'unit');
      t.is(await readlink(at(h, 'lib')), 'usr/lib');
    },
  },
  { id: '24a', title: 'symlink named ..', layer: [symlink('..', '/etc/'), hardlink('localpasswd', '/etc/passwd')], expect: 'either' },
  { id: '24b', title: 'symlink with an empty name', layer: [symlink('', '/etc/'), hardlink('localpasswd', '/etc/passwd')], expect: 'reject' },
  {
    id: '24c',
    title: 'symlink named sub/..',
    layer: [dir('etc'), file('etc/passwd', 'inside'), symlink('localetc/sub/..', '/etc/'), hardlink('localpasswd', '/etc/passwd')],
    expect: 'either',
    check: async (t, h) => sameInode(t, h, 'localpasswd', 'etc/passwd'),
  },
  { id: '25a', title: 'symlink loop', layer: [symlink('a', 'b'), symlink('b', 'a'), file('a/x', 'loop')], expect: 'reject' },
  {
    id: '25b',
    title: 'symlink loop through .. and an absolute target',
    layer: [symlink('bar', 'baz'), symlink('baz', '../bak'), symlink('bak', '/bar'), file('bar/x', 'loop')],
    expect: 'reject',
  },
];


for (const c of cases) {
  for (const mode of ['delete', 'overlay'] as const) {
    test(`case ${c.id} (${mode}): ${c.title}`, (t) => runBreakout(t, c, mode));
  }
}
