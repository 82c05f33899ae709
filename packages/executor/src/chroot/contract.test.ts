/** The chroot executor keeps the Executor contract (testing/contract.ts), like the sandbox. Needs root. */
import anyTest from 'ava';
import { createExecutor } from '../executor.js';
import { executorContract } from '../testing/contract.js';
import { rootfs, rootOnly, sandboxSuite } from '../testing/harness.js';
import type { Executor } from '../types.js';

const test = rootOnly(anyTest);
const made: Executor[] = [];

sandboxSuite(test, { executor: false, close: () => Promise.all(made.map((e) => e.close())) });

executorContract(test, 'chroot isolation', (want) => {
  const executor = createExecutor({ isolation: 'chroot', poolSize: 1 });
  made.push(executor);
  return {
    executor,
    request: {
      rootfs: { lowerdirs: [rootfs] },
      network: 'host',
      process: {
        args: ['/bin/sh', '-c', 'printf %s "$OUT"; printf %s "$ERR" >&2; exit "$CODE"'],
        env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', `OUT=${want.stdout}`, `ERR=${want.stderr}`, `CODE=${want.exitCode}`],
        cwd: '/',
        user: { uid: 0, gid: 0 },
      },
    },
  };
});
