/** `tsbuild run` of images built FROM the busybox fixture. */
import test from 'ava';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tsbuild } from './helpers/cli.js';
import { busyboxStore } from './helpers/busybox.js';
import { removeDir, tempDir } from './helpers/fixtures.js';
import { ourMounts } from './helpers/host.js';

async function storeWith(dockerfile: string, tag: string): Promise<{ root: string; work: string }> {
  const root = await busyboxStore();
  const work = await tempDir('run');
  await writeFile(join(work, 'Dockerfile'), dockerfile);
  const res = await tsbuild(['build', '-q', '-t', tag, work], { root });
  if (res.code !== 0) throw new Error(res.stderr);
  return { root, work };
}

test('ENTRYPOINT, CMD, ENV, USER and WORKDIR of the image are honoured, and arguments replace CMD', async (t) => {
  const { root, work } = await storeWith(
    'FROM busybox\nENV GREETING=hi\nUSER app\nWORKDIR /home/app\nENTRYPOINT ["/bin/sh", "-c", "echo \\"$GREETING $(id -un) $(pwd) $0 $*\\"", "ep"]\nCMD ["from-cmd"]\n',
    'app:1',
  );
  try {
    const a = await tsbuild(['run', 'app:1'], { root });
    t.is(a.code, 0, a.stderr);
    t.is(a.stdout, 'hi app /home/app ep from-cmd\n');
    const b = await tsbuild(['run', '-e', 'GREETING=hey', '-u', 'root', '-w', '/etc', 'app:1', 'x', 'y'], { root });
    t.is(b.stdout, 'hey root /etc ep x y\n');
    const c = await tsbuild(['run', '--entrypoint', '/bin/echo', 'app:1'], { root });
    t.is(c.stdout, '\n', '--entrypoint drops the image CMD');
    const d = await tsbuild(['run', '--entrypoint', '/bin/echo', 'app:1', '-n', 'no-newline'], { root });
    t.is(d.stdout, 'no-newline', 'options after IMAGE belong to the container');
  } finally {
    await removeDir(work);
    await removeDir(join(root, '..'));
  }
});

test('exit codes: 3 comes back as 3, not found is 127, cannot execute is 126', async (t) => {
  const root = await busyboxStore();
  try {
    t.is((await tsbuild(['run', 'busybox', 'sh', '-c', 'exit 3'], { root })).code, 3);
    const nf = await tsbuild(['run', 'busybox', 'no-such-command'], { root });
    t.is(nf.code, 127);
    t.regex(nf.stderr, /no-such-command/);
    t.is((await tsbuild(['run', 'busybox', '/etc/passwd'], { root })).code, 126);
    t.is((await tsbuild(['run', 'busybox', 'sh', '-c', 'kill -9 $$'], { root })).code, 137);
  } finally {
    await removeDir(join(root, '..'));
  }
});

test('--memory 32m: a process allocating 100 MB is killed (137)', async (t) => {
  const root = await busyboxStore();
  try {
    const res = await tsbuild(['run', '--memory', '32m', 'busybox', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=100M', 'count=1'], { root });
    t.is(res.code, 137, res.stderr);
    const ok = await tsbuild(['run', '--memory', '32m', 'busybox', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1M', 'count=100'], { root });
    t.is(ok.code, 0, 'small buffers fit');
  } finally {
    await removeDir(join(root, '..'));
  }
});

test('--pids-limit 16 contains a fork bomb', async (t) => {
  const root = await busyboxStore();
  try {
    const res = await tsbuild(['run', '--pids-limit', '16', 'busybox', 'sh', '-c', 'bomb() { bomb | bomb & }; bomb; sleep 2; echo survived; ls /proc | grep -c "^[0-9]"'], { root });
    t.is(res.code, 0, res.stderr);
    const [survived, count] = res.stdout.trim().split('\n');
    t.is(survived, 'survived');
    t.true(Number(count) <= 16, `at most 16 processes (saw ${count})`);
    t.regex(res.stderr, /fork|Resource temporarily unavailable/i, 'forks failed at the limit');
  } finally {
    await removeDir(join(root, '..'));
  }
});

test('-v bind mounts (and :ro), --tmpfs, and the writable layer is thrown away', async (t) => {
  const root = await busyboxStore();
  const host = await tempDir('vol');
  try {
    await mkdir(join(host, 'rw'));
    await mkdir(join(host, 'ro'));
    await writeFile(join(host, 'ro', 'in.txt'), 'from host');
    const res = await tsbuild(
      ['run', '-v', `${host}/rw:/data`, '-v', `${host}/ro:/input:ro`, '--tmpfs', '/scratch', 'busybox', 'sh', '-c',
        'cat /input/in.txt; echo written > /data/out.txt; (echo x > /input/no.txt) 2>/dev/null && echo ro-writable; grep " /scratch " /proc/mounts | cut -d" " -f3; echo junk > /junk'],
      { root },
    );
    t.is(res.code, 0, res.stderr);
    t.is(res.stdout, 'from hosttmpfs\n');
    t.is(await readFile(join(host, 'rw', 'out.txt'), 'utf8'), 'written\n');
    const again = await tsbuild(['run', 'busybox', 'sh', '-c', 'test -e /junk && echo kept || echo gone'], { root });
    t.is(again.stdout, 'gone\n');
    t.deepEqual(await ourMounts(host), [], 'no bind mount left on the host');
  } finally {
    await removeDir(host);
    await removeDir(join(root, '..'));
  }
});

test('run also takes oci-archive: and oci: images', async (t) => {
  const root = await busyboxStore();
  const work = await tempDir('ocirun');
  try {
    const exp = await tsbuild(['build', '-q', '-o', `type=oci,dest=${work}/img.tar`, '-o', `type=oci,dest=${work}/layout,tar=false`, '-t', 'x:1', await (async () => {
      await writeFile(join(work, 'Dockerfile'), 'FROM busybox\nCMD ["echo", "from-archive"]\n');
      return work;
    })()], { root });
    t.is(exp.code, 0, exp.stderr);
    const fresh = join(work, 'fresh-store');
    t.is((await tsbuild(['run', `oci-archive:${work}/img.tar`], { root: fresh })).stdout, 'from-archive\n');
    t.is((await tsbuild(['run', `oci:${work}/layout:1`], { root: fresh })).stdout, 'from-archive\n');
  } finally {
    await removeDir(work);
    await removeDir(join(root, '..'));
  }
});
