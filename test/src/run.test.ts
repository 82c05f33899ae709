/** `tsbuild run` of images built FROM the busybox fixture. */
import test from 'ava';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
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
  const root = await busyboxStore(t);
  t.is((await tsbuild(['run', 'busybox', 'sh', '-c', 'exit 3'], { root })).code, 3);
  const nf = await tsbuild(['run', 'busybox', 'no-such-command'], { root });
  t.is(nf.code, 127);
  t.regex(nf.stderr, /no-such-command/);
  t.is((await tsbuild(['run', 'busybox', '/etc/passwd'], { root })).code, 126);
  t.is((await tsbuild(['run', 'busybox', 'sh', '-c', 'kill -9 $$'], { root })).code, 137);
});

test('--memory 32m: a process allocating 100 MB is killed (137)', async (t) => {
  const root = await busyboxStore(t);
  const res = await tsbuild(['run', '--memory', '32m', 'busybox', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=100M', 'count=1'], { root });
  t.is(res.code, 137, res.stderr);
  const ok = await tsbuild(['run', '--memory', '32m', 'busybox', 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1M', 'count=100'], { root });
  t.is(ok.code, 0, 'small buffers fit');
});

/**
 * Where a tsbuild started by this process may put the cgroups of its runs:
 * <own>/tsbuild-<pid>/run-<id> in the pids hierarchy on v1; on v2 below our own cgroup
 * or beside it (the executor's cgroups.ts).
 */
async function runCgroupParents(): Promise<string[]> {
  const lines = (await readFile('/proc/self/cgroup', 'utf8')).trim().split('\n');
  const v1 = lines.map((l) => l.split(':')).find(([, c]) => c!.split(',').includes('pids'));
  if (v1) return [join('/sys/fs/cgroup/pids', v1[2]!)];
  const own = join('/sys/fs/cgroup', lines.find((l) => l.startsWith('0::'))!.slice(3));
  return [own, dirname(own)];
}

/** Watches, from the host, the peak pids.current of run cgroups whose pids.max is `max`. */
function watchPids(parents: string[], max: number): { stop(): Promise<{ seen: boolean; peak: number }> } {
  let seen = false;
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const parent of parents) {
        const bases = (await readdir(parent).catch(() => [] as string[])).filter((d) => d.startsWith('tsbuild-'));
        for (const base of bases) {
          for (const id of await readdir(join(parent, base)).catch(() => [] as string[])) {
            if (!id.startsWith('run-')) continue;
            const limit = await readFile(join(parent, base, id, 'pids.max'), 'utf8').catch(() => '');
            if (limit.trim() !== String(max)) continue;
            seen = true;
            const current = Number(await readFile(join(parent, base, id, 'pids.current'), 'utf8').catch(() => '0'));
            peak = Math.max(peak, current);
          }
        }
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { seen, peak };
    },
  };
}

test('--pids-limit 16 contains a fork bomb', async (t) => {
  const root = await busyboxStore();
  // The executor's init (PID 1) shares the cgroup, so pids.max is the limit plus one.
  const watcher = watchPids(await runCgroupParents(), 17);
  try {
    // While the bomb runs any fork may fail, so once it is lit the script uses builtins
    // only: a background loop keeps re-lighting it, `read -t` waits, `kill -9 -1` ends it.
    const script = [
      'bomb() { bomb | bomb & }',
      '(while :; do bomb; done) &',
      'read -t 3 x < /dev/ptmx 2>/dev/null',
      'kill -9 -1 2>/dev/null; kill -9 -1 2>/dev/null; kill -9 -1 2>/dev/null',
      'echo survived',
    ].join('\n');
    const res = await tsbuild(['run', '--pids-limit', '16', 'busybox', 'sh', '-c', script], { root });
    const { seen, peak } = await watcher.stop();
    t.is(res.code, 0, res.stderr);
    t.is(res.stdout.trim(), 'survived');
    t.true(seen, 'the run had a cgroup with pids.max 17');
    t.true(peak <= 17, `at most 16 processes and init (peak ${peak})`);
    // Only the limit makes fork fail with EAGAIN here: the bomb did reach it.
    t.regex(res.stderr, /can't fork: Resource temporarily unavailable/, 'forks failed at the limit');
  } finally {
    await watcher.stop();
    await removeDir(join(root, '..'));
  }
});

test('-v bind mounts (and :ro), --tmpfs, and the writable layer is thrown away', async (t) => {
  const root = await busyboxStore(t);
  const host = await tempDir('vol', t);
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
});

test('run also takes oci-archive: and oci: images', async (t) => {
  const root = await busyboxStore(t);
  const work = await tempDir('ocirun', t);
  const exp = await tsbuild(['build', '-q', '-o', `type=oci,dest=${work}/img.tar`, '-o', `type=oci,dest=${work}/layout,tar=false`, '-t', 'x:1', await (async () => {
    await writeFile(join(work, 'Dockerfile'), 'FROM busybox\nCMD ["echo", "from-archive"]\n');
    return work;
  })()], { root });
  t.is(exp.code, 0, exp.stderr);
  const fresh = join(work, 'fresh-store');
  t.is((await tsbuild(['run', `oci-archive:${work}/img.tar`], { root: fresh })).stdout, 'from-archive\n');
  t.is((await tsbuild(['run', `oci:${work}/layout:1`], { root: fresh })).stdout, 'from-archive\n');
});
