/**
 * A registry that accepts connections and never answers: the transport's own timeout is
 * a typed NetworkError (ETIMEDOUT), retried like Node's socket errors, and the pull fails
 * with a RegistryError (TSBUILD_REGISTRY_UNAVAILABLE) whose cause it is. No docker-registry needed.
 */
import test from 'ava';
import { createServer, type Server } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { isTsbuildError } from '@tsbuild/errors';
import { parseReference } from '../reference.js';
import { RegistryClient } from './client.js';
import { NetworkError, RegistryError } from './errors.js';
import type { RegistryEvent } from './events.js';
import { AMD64, tempStore } from './testing/fixtures.js';

/** A TCP server that reads what it is sent and says nothing. */
async function silentServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const stop = () => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { port: (server.address() as AddressInfo).port, stop };
}

test('a registry that never answers: NetworkError (ETIMEDOUT) retried, then a typed TSBUILD_REGISTRY_UNAVAILABLE', async (t) => {
  const silent = await silentServer();
  t.teardown(silent.stop);
  const b = await tempStore();
  t.teardown(b.cleanup);
  const events: RegistryEvent[] = [];
  const client = new RegistryClient({ timeoutMs: 100, retry: { attempts: 2, baseDelayMs: 1 }, onEvent: (e) => events.push(e), credentials: () => undefined });
  t.teardown(() => client.close());
  const host = `127.0.0.1:${silent.port}`;
  const err = await t.throwsAsync(client.pull(b.store, parseReference(`${host}/quiet/image:1`), { platform: AMD64 }));
  t.true(err instanceof RegistryError && isTsbuildError(err), String(err));
  const e = err as RegistryError;
  t.is(e.code, 'TSBUILD_REGISTRY_UNAVAILABLE');
  t.is(e.registry, host);
  t.regex(e.message, new RegExp(`^pull ${host}/quiet/image:1: .*cannot reach ${host.replace(/\./g, '\\.')}: no (answer|data) from ${host.replace(/\./g, '\\.')} for 0\\.1 s \\(ETIMEDOUT\\) \\(2 attempts\\)$`));
  // The cause chain ends in the transport's own typed error.
  let cause: unknown = e;
  while (cause instanceof RegistryError) cause = cause.cause;
  t.true(cause instanceof NetworkError, String(cause));
  t.is((cause as NetworkError).errno, 'ETIMEDOUT');
  t.is((cause as NetworkError).code, 'TSBUILD_REGISTRY_UNAVAILABLE');
  t.is(events.filter((ev) => ev.type === 'retry').length, 1, 'retried once, as a network error');
});
