/**
 * The busybox base image of the RUN and run tests, built by tsbuild itself from
 * fixtures/busybox (Debian's static busybox, nothing pulled). Built once per test
 * process; each test gets its own copy of that store, holding `busybox:latest`.
 */
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { tsbuild } from './cli.js';
import { prepareFixture, removeDir, tempDir, type Teardown } from './fixtures.js';

let built: Promise<string> | undefined;

/**
 * A store directory holding busybox:latest (built once, copied for each caller); with
 * `t`, the copy is removed when that test ends (else the caller removes `join(root, '..')`).
 */
export async function busyboxStore(t?: Teardown): Promise<string> {
  built ??= (async () => {
    const ctx = await prepareFixture('busybox');
    const dir = await tempDir('busybox-store');
    const res = await tsbuild(['build', '-q', '-t', 'busybox:latest', ctx], { root: join(dir, 'store') });
    await removeDir(ctx);
    if (res.code !== 0) throw new Error(`building the busybox fixture failed: ${res.stderr}`);
    return join(dir, 'store');
  })();
  const source = await built;
  const dir = await tempDir('store', t);
  await cp(source, join(dir, 'store'), { recursive: true, verbatimSymlinks: true });
  return join(dir, 'store');
}

/** busybox:latest pushed to `dest` (`HOST:PORT/library/busybox:latest`), from a copy of the store made for it. */
export async function pushBusybox(dest: string): Promise<void> {
  const root = await busyboxStore();
  try {
    const res = await tsbuild(['push', 'busybox:latest', dest], { root });
    if (res.code !== 0) throw new Error(`pushing busybox to ${dest}: ${res.stderr}`);
  } finally {
    await removeDir(join(root, '..'));
  }
}
