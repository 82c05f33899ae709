import test from 'ava';
import { Worker } from 'node:worker_threads';
import { hostname } from 'node:os';
import { readlinkSync } from 'node:fs';
import { capget, getpid, gettid, umount2 } from './libc.js';
import { SyscallError } from './errors.js';

test('a real call: getpid and gettid of the main thread agree with Node', (t) => {
  t.is(getpid(), process.pid);
  t.is(gettid(), process.pid);
});

test('errno becomes a SyscallError naming the call', (t) => {
  const err = t.throws(() => umount2('/nonexistent-tsbuild-path'), { instanceOf: SyscallError });
  t.is(err?.call, 'umount2');
  t.true(['ENOENT', 'EPERM'].includes(err!.errno));
  t.regex(err!.message, /umount2\(\/nonexistent-tsbuild-path\): E/);
});

test('capget reads the calling thread\'s capability sets', (t) => {
  const caps = capget();
  if (process.getuid?.() === 0) t.true((caps.effective & (1n << 21n)) !== 0n, 'root has CAP_SYS_ADMIN');
  else t.is(caps.effective & (1n << 21n), 0n);
});

test('unshare in a worker thread changes only that thread\'s namespaces', async (t) => {
  if (process.getuid?.() !== 0) return t.pass('needs root');
  const before = readlinkSync('/proc/thread-self/ns/uts');
  const code = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(new URL('./libc.js', import.meta.url).href)}).then((libc) => {
      libc.unshare(libc.CLONE.NEWUTS);
      libc.sethostname('tsbuild-test-uts');
      parentPort.postMessage({ ns: require('node:fs').readlinkSync('/proc/thread-self/ns/uts'), host: require('node:os').hostname() });
    });`;
  const msg = await new Promise<{ ns: string; host: string }>((resolve, reject) => {
    const w = new Worker(code, { eval: true });
    w.once('message', resolve);
    w.once('error', reject);
  });
  t.not(msg.ns, before);
  t.is(msg.host, 'tsbuild-test-uts');
  t.is(readlinkSync('/proc/thread-self/ns/uts'), before);
  t.not(hostname(), 'tsbuild-test-uts');
});
