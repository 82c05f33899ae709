/**
 * tsbuild-enter on its own (outside a sandbox): it joins through the fd it is given,
 * then execs the command with its argv and environment intact; a failed join or exec
 * comes back as an EnterError naming the step and errno, with the child reaped.
 */
import test from 'ava';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { P, waitid } from '../libc.js';
import { spawnCommand } from '../sandbox/spawn.js';
import { zombies } from '../testing/leaks.js';
import { EnterError, enterElf, enterMemfd, spawnInCgroup } from './enter.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbuild-enter-test-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

/** Run argv through tsbuild-enter with `procs` as the cgroup.procs fd; stdout as text, exit status. */
function run(procsPath: string, argv: string[], env: string[] = []): { out: string; status: number } {
  const outPath = join(dir, `out-${Math.random()}`);
  const out = openSync(outPath, 'w');
  const procsFd = openSync(procsPath, 'w');
  try {
    const s = spawnInCgroup({ procsFd, enterFd: enterMemfd() }, (via) => spawnCommand(argv[0]!, argv, env, { stdout: out, stderr: out }, via));
    const st = waitid(P.PIDFD, s.pidfd, 0)!;
    closeSync(s.pidfd);
    return { out: readFileSync(outPath, 'utf8'), status: st.status };
  } finally {
    closeSync(out);
    closeSync(procsFd);
  }
}

test('argv (with argv[0]) and the environment reach the command unchanged; it wrote "0" first', (t) => {
  const procs = join(dir, 'procs');
  writeFileSync(procs, '');
  const r = run(procs, ['/bin/busybox', 'sh', '-c', 'echo "$0|$1|$FOO|$#"', 'zero', 'one two'], ['FOO=bar baz']);
  t.is(r.status, 0);
  t.is(r.out, 'zero|one two|bar baz|1\n');
  t.is(readFileSync(procs, 'utf8'), '0', 'what joins a cgroup: the writer itself');
});

test('a failed join: EnterError "join" with the errno, and the child is reaped', (t) => {
  const err = t.throws(() => run('/dev/full', ['/bin/busybox', 'true']), { instanceOf: EnterError });
  t.is(err?.step, 'join');
  t.is(err?.errno, 'ENOSPC');
  t.regex(err?.message ?? '', /joining the run's cgroup: ENOSPC/);
  t.deepEqual(zombies(), []);
});

test('a failed exec: EnterError "exec" with the errno', (t) => {
  const junk = join(dir, 'junk');
  writeFileSync(junk, 'not a program\n');
  chmodSync(junk, 0o755);
  const err = t.throws(() => run('/dev/null', [junk]), { instanceOf: EnterError });
  t.is(err?.step, 'exec');
  t.is(err?.errno, 'ENOEXEC');
  const missing = t.throws(() => run('/dev/null', [join(dir, 'missing')]), { instanceOf: EnterError });
  t.is(missing?.errno, 'ENOENT');
  t.deepEqual(zombies(), []);
});

test('an ELF for both architectures: x86-64 and aarch64 headers', (t) => {
  t.is(enterElf('x64').readUInt16LE(18), 62);
  t.is(enterElf('arm64').readUInt16LE(18), 183);
  t.throws(() => enterElf('riscv64'), { message: /x64 and arm64/ });
});

test('a join refused for the command\'s credentials names the kernel that allows it', (t) => {
  t.regex(new EnterError('join', 'EACCES').message, /^joining the run's cgroup: EACCES \(.*Linux 5\.16/);
  t.is(new EnterError('join', 'EBUSY').message, "joining the run's cgroup: EBUSY");
});
