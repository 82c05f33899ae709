/** `--allow network.host`: RUN --network=host only when the command line allows it (BuildKit's entitlement). */
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingExecutor } from '@tsbuild/executor/testing';
import { Store } from '@tsbuild/layerstore';
import { BuildError, UsageError } from '../errors.js';
import { build } from '../solve/index.js';
import { parseEntitlements } from './entitlements.js';

async function withBuild(dockerfile: string, fn: (dir: string, store: Store) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'builder-allow-'));
  try {
    await writeFile(join(dir, 'Dockerfile'), dockerfile);
    await fn(dir, await Store.open(join(dir, 'store')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('RUN --network=host without --allow network.host fails before any step runs, naming the line and the flag', async (t) => {
  await withBuild('FROM scratch\nRUN true\nRUN --network=host wget http://127.0.0.1:8080/\n', async (dir, store) => {
    const executor = new RecordingExecutor();
    const err = await t.throwsAsync(build({ store, contextDir: dir, executor }), { instanceOf: BuildError });
    t.is(err?.code, 'TSBUILD_NOT_ALLOWED');
    t.is(String(err), 'Dockerfile:3: RUN --network=host is not allowed: it needs the network.host entitlement, given with --allow network.host');
    t.is(executor.requests.length, 0, 'nothing ran');
  });
});

test('with network.host allowed, RUN --network=host gets the host network and the others their own', async (t) => {
  await withBuild('FROM scratch\nRUN --network=host true\nRUN true\nRUN --network=default true\nRUN --network=none true\n', async (dir, store) => {
    const executor = new RecordingExecutor();
    await build({ store, contextDir: dir, executor, allow: new Set(['network.host']) });
    t.deepEqual(executor.requests.map((r) => r.network), ['host', 'private', 'private', 'none']);
  });
});

test('a stage that is not built needs no entitlement', async (t) => {
  await withBuild('FROM scratch AS unused\nRUN --network=host true\nFROM scratch\nRUN true\n', async (dir, store) => {
    const executor = new RecordingExecutor();
    await build({ store, contextDir: dir, executor });
    t.deepEqual(executor.requests.map((r) => r.network), ['private']);
  });
});

test('--allow values: network.host (also comma-separated); anything else is a usage error', (t) => {
  t.deepEqual([...parseEntitlements(['network.host'])], ['network.host']);
  t.deepEqual([...parseEntitlements(['network.host,network.host'])], ['network.host']);
  t.deepEqual([...parseEntitlements([])], []);
  t.throws(() => parseEntitlements(['network.none']), { instanceOf: UsageError, message: /--allow network.none: unknown entitlement, want network.host/ });
  t.throws(() => parseEntitlements(['security.insecure']), { instanceOf: UsageError, message: /not supported/ });
});
