/**
 * A child program for isolation.test.ts, started with capabilities taken away (setpriv):
 * it probes what this process may do, runs one command with `isolation: 'auto'` over
 * the lower dir and into the upper and work dirs given as arguments, and prints
 * `{ report, mode, exitCode, out }` as JSON. With a fourth argument `seccomp`, it first
 * installs the sandbox's seccomp filter on itself (with no_new_privs), which refuses
 * unshare(2) for every flag as docker's default profile does without CAP_SYS_ADMIN;
 * threads and processes it starts afterwards inherit it.
 */
import { createExecutor } from '../executor.js';
import { probeIsolation, resolveIsolation } from '../isolation.js';
import { prctl, PR } from '../libc.js';
import { installSeccomp } from '../sandbox/seccomp.js';

const [lower, upperdir, workdir, filter] = process.argv.slice(2) as [string, string, string, string | undefined];
if (filter === 'seccomp') {
  prctl(PR.SET_NO_NEW_PRIVS, 1);
  installSeccomp();
}
const report = probeIsolation();
let out = '';
const ex = createExecutor({ isolation: 'auto', poolSize: 1 });
try {
  const r = await ex.run({
    rootfs: { lowerdirs: [lower], upperdir, workdir },
    network: 'private',
    process: { args: ['/bin/sh', '-c', 'echo made > /made; id -u'], env: ['PATH=/bin'], cwd: '/', user: 'root' },
    onStdout: (b) => (out += b.toString()),
    onStderr: (b) => (out += b.toString()),
  });
  // eslint-disable-next-line no-restricted-syntax -- a child program: its stdout is its protocol
  process.stdout.write(JSON.stringify({ report, mode: resolveIsolation('auto').mode, exitCode: r.exitCode, out }));
} finally {
  await ex.close();
}
