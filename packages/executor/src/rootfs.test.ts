/**
 * The rootfs and the upper dir: what a run leaves in the upper dir (the command's changes
 * and nothing else), many layers, extra mounts, read-only roots. Needs root.
 */
import anyTest from 'ava';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { mount, umount2 } from './libc.js';
import { sh } from './testing/fixture.js';
import { ex, fx, rootfs, rootOnly, sandboxSuite } from './testing/harness.js';

const test = rootOnly(anyTest);

sandboxSuite(test, { executor: { poolSize: 3 } });

/** A rootfs of just /bin, like `FROM scratch` plus busybox. */
let scratch: string;
test.before(() => {
  scratch = fx.rootfs({ system: false });
});

/** Every path in a directory tree, sorted, with a marker for whiteouts. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      out.push(relative(dir, p) + (st.isCharacterDevice() && st.rdev === 0 ? ' (whiteout)' : ''));
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

test('the upper dir holds what the command changed and no mount-point stubs (scratch rootfs)', async (t) => {
  const layer = fx.layer();
  const r = await sh(ex, [scratch], 'mkdir -p /data && echo hi > /data/f && rm /bin/ls && ls /proc/self/fd /dev/null /etc/hosts /sys/kernel > /dev/null', {
    rootfs: { lowerdirs: [scratch], ...layer },
  });
  t.is(r.code, 0, r.err);
  t.deepEqual(tree(layer.upperdir), ['bin', 'bin/ls (whiteout)', 'data', 'data/f']);
});

test('the sandbox refuses whiteouts in the xattr form: its overlayfs records deletions as 0:0 devices', async (t) => {
  const layer = fx.layer();
  const err = await t.throwsAsync(sh(ex, [scratch], 'true', { rootfs: { lowerdirs: [scratch], ...layer, whiteouts: 'xattr' } }));
  t.is((err as { code?: string }).code, 'TSBUILD_SANDBOX_UNSUPPORTED');
  t.regex(err!.message, /rootfs\.whiteouts 'xattr' needs chroot isolation/);
  t.deepEqual(readdirSync(layer.upperdir), [], 'nothing was run');
});

test('no stub for /etc/hosts and friends, and /etc is not copied up (image rootfs)', async (t) => {
  const layer = fx.layer();
  const r = await sh(ex, [rootfs], 'cat /etc/hosts /etc/resolv.conf /etc/hostname > /dev/null && touch /root/x', { rootfs: { lowerdirs: [rootfs], ...layer } });
  t.is(r.code, 0, r.err);
  t.deepEqual(tree(layer.upperdir), ['root', 'root/x']);
});

test('a file the command writes next to a stub stays, the stub goes', async (t) => {
  const layer = fx.layer();
  const r = await sh(ex, [rootfs], 'echo 1 > /etc/new', { rootfs: { lowerdirs: [rootfs], ...layer } });
  t.is(r.code, 0, r.err);
  t.deepEqual(tree(layer.upperdir), ['etc', 'etc/new']);
});

test('the stub cleanup cannot be redirected out of the upper dir (CVE-2024-23652)', async (t) => {
  const layer = fx.layer();
  const victim = fx.path('victim');
  for (const f of ['hosts', 'hostname', 'resolv.conf']) writeFileSync(join(victim, f), '');
  mkdirSync(join(victim, 'proc'));
  const r = await sh(ex, [scratch], `mv /etc /etc.moved && ln -s ${victim} /etc && ln -s ${victim} /proc.link && echo done`, { rootfs: { lowerdirs: [scratch], ...layer } });
  t.is(r.code, 0, r.err);
  t.is(r.out, 'done\n');
  t.deepEqual(readdirSync(victim).sort(), ['hostname', 'hosts', 'proc', 'resolv.conf'], 'nothing removed outside the upper dir');
  t.true(lstatSync(join(layer.upperdir, 'etc')).isSymbolicLink());
});

test('120 lower layers, one with a path longer than 255 bytes', async (t) => {
  const layers: string[] = [];
  for (let i = 0; i < 120; i++) {
    const d = i === 7 ? join(fx.path('long'), 'x'.repeat(200), 'y'.repeat(60)) : fx.path(`layer${i}`);
    mkdirSync(join(d, 'layers'), { recursive: true });
    writeFileSync(join(d, 'layers', String(i)), String(i));
    writeFileSync(join(d, 'top'), String(i));
    layers.unshift(d); // topmost first
  }
  t.true(layers.some((l) => Buffer.byteLength(l) > 255));
  const r = await sh(ex, [...layers, rootfs], 'ls /layers | wc -l; cat /top', { rootfs: { lowerdirs: [...layers, rootfs] } });
  t.is(r.code, 0, r.err);
  t.deepEqual(r.out.trim().split('\n'), ['120', '119']);
});

test('renaming a lower directory copies it instead of recording a redirect (case 117)', async (t) => {
  const lower = fx.path('lower');
  mkdirSync(join(lower, 'd'));
  writeFileSync(join(lower, 'd/a'), 'content');
  const layer = fx.layer();
  const r = await sh(ex, [lower, rootfs], 'mv /d /e && cat /e/a', { rootfs: { lowerdirs: [lower, rootfs], ...layer } });
  t.is(r.code, 0, r.err);
  t.is(r.out, 'content');
  t.deepEqual(tree(layer.upperdir), ['d (whiteout)', 'e', 'e/a']);
  t.is(readFileSync(join(layer.upperdir, 'e/a'), 'utf8'), 'content');
});

test('bind and tmpfs mounts; readonly ones are read-only; their mount points leave no stubs', async (t) => {
  const host = fx.path('shared');
  writeFileSync(join(host, 'in'), 'from the host\n');
  const file = join(fx.path('single'), 'config.json');
  writeFileSync(file, '{"a":1}\n');
  const layer = fx.layer();
  const r = await sh(ex, [scratch], `
    cat /mnt/rw/in /config.json
    echo out > /mnt/rw/out
    (echo x > /mnt/ro/x) 2>/dev/null && echo wrote-ro
    (echo x > /config.json) 2>/dev/null && echo wrote-file
    echo t > /scratch/t && cat /scratch/t
    (echo t > /frozen/t) 2>/dev/null && echo wrote-frozen
    grep -E ' /(mnt/r[wo]|scratch|frozen|config.json) ' /proc/self/mountinfo | cut -d' ' -f5,6,8 | sort`, {
    rootfs: { lowerdirs: [scratch], ...layer },
    mounts: [
      { type: 'bind', source: host, destination: '/mnt/rw' },
      { type: 'bind', source: host, destination: '/mnt/ro', readonly: true },
      { type: 'bind', source: file, destination: '/config.json', readonly: true },
      { type: 'tmpfs', destination: '/scratch', options: ['size=1m', 'mode=1777'] },
      { type: 'tmpfs', destination: '/frozen', readonly: true },
    ],
  });
  t.is(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  t.deepEqual(lines.slice(0, 3), ['from the host', '{"a":1}', 't']);
  t.regex(lines[3]!, /^\/config\.json ro,/);
  t.regex(lines[4]!, /^\/frozen ro,.* tmpfs$/);
  t.regex(lines[5]!, /^\/mnt\/ro ro,/);
  t.regex(lines[6]!, /^\/mnt\/rw rw,/);
  t.regex(lines[7]!, /^\/scratch rw,.* tmpfs$/);
  t.is(lines.length, 8);
  t.is(readFileSync(join(host, 'out'), 'utf8'), 'out\n');
  t.false(existsSync(join(host, 'x')));
  t.deepEqual(tree(layer.upperdir), [], 'the mount points were stubs');
});

test('a read-only bind is read-only all the way down: its submounts too', async (t) => {
  const host = fx.path('tree');
  const sub = join(host, 'sub');
  mkdirSync(sub);
  mount('tmpfs', sub, 'tmpfs', 0, 'size=1m');
  try {
    const r = await sh(ex, [scratch], `
      (echo x > /ro/sub/x) 2>/dev/null && echo wrote-ro-sub
      echo y > /rw/sub/y && echo wrote-rw-sub
      grep -E ' /r[ow]/sub ' /proc/self/mountinfo | cut -d' ' -f5,6 | cut -d, -f1 | sort`, {
      rootfs: { lowerdirs: [scratch] },
      mounts: [
        { type: 'bind', source: host, destination: '/ro', readonly: true },
        { type: 'bind', source: host, destination: '/rw' },
      ],
    });
    t.is(r.code, 0, r.err);
    t.deepEqual(r.out.trim().split('\n'), ['wrote-rw-sub', '/ro/sub ro', '/rw/sub rw']);
    t.is(readFileSync(join(sub, 'y'), 'utf8'), 'y\n');
  } finally {
    umount2(sub);
  }
});

test('mounts below /dev and below an image directory leave the upper dir empty', async (t) => {
  const file = join(fx.path('pipe'), 'script');
  writeFileSync(file, 'echo from-a-pipe\n');
  const layer = fx.layer();
  const r = await sh(ex, [rootfs], 'sh /dev/pipes/script && cat /root/deep/er/file', {
    rootfs: { lowerdirs: [rootfs], ...layer },
    mounts: [
      { type: 'bind', source: file, destination: '/dev/pipes/script', readonly: true },
      { type: 'bind', source: file, destination: '/root/deep/er/file', readonly: true },
    ],
  });
  t.is(r.code, 0, r.err);
  t.is(r.out, 'from-a-pipe\necho from-a-pipe\n');
  t.deepEqual(tree(layer.upperdir), []);
});

test('a read-only rootfs refuses writes; the mounts on it do not', async (t) => {
  const layer = fx.layer();
  const r = await sh(ex, [rootfs], '(touch /x) 2>/dev/null && echo wrote-root; echo y > /dev/shm/y && echo shm-ok', { rootfs: { lowerdirs: [rootfs], readonly: true, ...layer } });
  t.is(r.code, 0, r.err);
  t.is(r.out, 'shm-ok\n');
  t.deepEqual(tree(layer.upperdir), []);
});

test('without an upper dir the changes are thrown away', async (t) => {
  const r = await sh(ex, [rootfs], 'echo x > /x && cat /x');
  t.is(r.code, 0, r.err);
  t.is(r.out, 'x\n');
  t.false(existsSync(join(rootfs, 'x')));
});

test('a setup that fails half-way leaves no mount-point stub in the upper dir', async (t) => {
  const lower = fx.path('sys-is-a-file');
  writeFileSync(join(lower, 'sys'), 'not a directory');
  const layer = fx.layer();
  const r = await sh(ex, [lower, scratch], 'echo never', { rootfs: { lowerdirs: [lower, scratch], ...layer } });
  t.is(r.code, 125);
  t.regex(r.result.setupError ?? '', /\/sys/);
  t.deepEqual(tree(layer.upperdir), [], 'the /dev and /proc stubs made before the failure are gone');
});

test('a bad lower dir is a setup error', async (t) => {
  const r = await sh(ex, ['/nonexistent-layer'], 'true');
  t.is(r.code, 125);
  t.regex(r.result.setupError ?? '', /overlay lower dir \/nonexistent-layer/);
});
