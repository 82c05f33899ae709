/**
 * Registry faults in transport (a registry that is down, truncated or corrupt blobs, dropped
 * connections, 503/429 and other status codes, an aborted pull), injected by a small proxy in
 * front of a real docker-registry or by fake servers. Each must end in a clear, typed error
 * naming the registry and reference, with nothing half-stored: no new blob, no tag. What the
 * registry claims (manifests, redirects, media types, digests, mirrors) is in
 * faults-content.test.ts.
 */
import test from 'ava';
import type { ServerResponse } from 'node:http';
import { parseReference } from '../reference.js';
import type { RegistryError } from './errors.js';
import { AMD64 } from './testing/fixtures.js';
import { freePort } from './testing/registry-server.js';
import { faultHarness, isBlob, nothingStored, retries } from './testing/fault-harness.js';

const h = faultHarness(test);

test('registry down: retried with backoff, then TSBUILD_REGISTRY_UNAVAILABLE naming registry and reference', async (t) => {
  const { store, events, client } = await h.setup(t);
  const port = await freePort();
  const err = await t.throwsAsync<RegistryError>(client.pull(store, parseReference(`127.0.0.1:${port}/f/small:1`), { platform: AMD64 }));
  t.is(err?.code, 'TSBUILD_REGISTRY_UNAVAILABLE');
  t.regex(err!.message, new RegExp(`^pull 127\\.0\\.0\\.1:${port}/f/small:1: manifest 1: cannot reach 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.* \\(4 attempts\\)`));
  t.is(err?.registry, `127.0.0.1:${port}`);
  t.is(retries(events), 3);
  await nothingStored(t, store);
});

test('a layer with one flipped bit: digest mismatch, nothing committed (case 52)', async (t) => {
  const { store, client } = await h.setup(t);
  const layer = h.small.image.manifest.layers[1]!.digest;
  const p = await h.proxy(t, async (x, res) => {
    if (x.method !== 'GET' || !isBlob(x.path, layer)) return false;
    const up = await x.forward();
    up.body[100] = up.body[100]! ^ 0x08;
    res.writeHead(up.status, up.headers);
    res.end(up.body);
    return true;
  });
  const err = await t.throwsAsync<RegistryError>(client.pull(store, parseReference(`${p.host}/f/small:1`), { platform: AMD64 }));
  t.is(err?.code, 'TSBUILD_DIGEST_MISMATCH');
  t.regex(err!.message, new RegExp(`^pull ${p.host}/f/small:1: layer 2/2 ${layer} of .* from ${p.host}: digest mismatch`));
  await nothingStored(t, store);
});

/** Answer a blob GET with Content-Length N but only `bytes` of it, then reset the connection. */
function truncate(res: ServerResponse, body: Buffer, headers: Record<string, unknown>, bytes: number): void {
  res.writeHead(200, { ...headers, 'content-length': String(body.length) });
  res.write(body.subarray(0, bytes), () => setTimeout(() => res.socket?.destroy(), 20));
}

test('a truncated blob (Content-Length N, 10 bytes, reset) every time: retried, then an error; nothing stored (case 53)', async (t) => {
  const { store, events, client } = await h.setup(t);
  const layer = h.big.image.manifest.layers[0]!.digest;
  const p = await h.proxy(t, async (x, res) => {
    if (x.method !== 'GET' || !isBlob(x.path, layer)) return false;
    const up = await x.forward({ range: '' });
    truncate(res, up.body, up.headers, 10);
    return true;
  });
  const err = await t.throwsAsync<RegistryError>(client.pull(store, parseReference(`${p.host}/f/big:1`), { platform: AMD64 }));
  t.is(err?.code, 'TSBUILD_REGISTRY_UNAVAILABLE');
  t.regex(err!.message, new RegExp(`^pull ${p.host}/f/big:1: layer 1/1 ${layer} .*: truncated: .* cut short at 10 of \\d+ bytes`));
  t.true(retries(events) >= 3);
  await nothingStored(t, store);
});

test('a connection dropped half way is resumed with Range; a registry that ignores Range is re-read and skipped', async (t) => {
  const layer = h.big.image.manifest.layers[0]!;
  for (const honourRange of [true, false]) {
    const { store, client } = await h.setup(t);
    let cut = false;
    const p = await h.proxy(t, async (x, res) => {
      if (x.method !== 'GET' || !isBlob(x.path, layer.digest)) return false;
      if (!cut) {
        cut = true;
        const up = await x.forward();
        truncate(res, up.body, up.headers, Math.floor(layer.size / 2));
        return true;
      }
      if (honourRange) return false;
      const up = await x.forward({ range: '' });
      res.writeHead(200, up.headers);
      res.end(up.body);
      return true;
    });
    const pulled = await client.pull(store, parseReference(`${p.host}/f/big:1`), { platform: AMD64 });
    t.is(pulled.digest, h.big.digest);
    const gets = p.log.filter((r) => r.method === 'GET' && isBlob(r.path, layer.digest));
    t.is(gets.length, 2);
    t.regex(String(gets[1]!.headers.range), /^bytes=\d+-$/);
    t.true(Number(/=(\d+)-/.exec(String(gets[1]!.headers.range))![1]) > 0);
  }
});

test('503, 503, 200 is retried; 429 honours Retry-After; a very long Retry-After fails at once (case 63)', async (t) => {
  {
    const { store, events, client } = await h.setup(t);
    let n = 0;
    const p = await h.proxy(t, (x, res) => {
      if (!x.path.includes('/manifests/') || n >= 2) return false;
      n++;
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}');
      return true;
    });
    const pulled = await client.pull(store, parseReference(`${p.host}/f/small:1`), { platform: AMD64 });
    t.is(pulled.digest, h.small.digest);
    t.is(retries(events), 2);
  }
  {
    const { store, events, client } = await h.setup(t);
    let limited = false;
    const p = await h.proxy(t, (x, res) => {
      if (limited || !x.path.includes('/blobs/')) return false;
      limited = true;
      res.writeHead(429, { 'retry-after': '1' });
      res.end();
      return true;
    });
    const started = Date.now();
    await client.pull(store, parseReference(`${p.host}/f/small:1`), { platform: AMD64 });
    t.true(Date.now() - started >= 950, 'waited the second the registry asked for');
    t.true(events.some((e) => e.type === 'retry' && e.delayMs === 1000 && /429/.test(e.reason)));
  }
  {
    const { store, client } = await h.setup(t);
    const p = await h.proxy(t, (x, res) => {
      if (!x.path.includes('/manifests/')) return false;
      res.writeHead(429, { 'retry-after': '3600' });
      res.end();
      return true;
    });
    const err = await t.throwsAsync<RegistryError>(client.pull(store, parseReference(`${p.host}/f/small:1`), { platform: AMD64 }));
    t.is(err?.code, 'TSBUILD_REGISTRY_UNAVAILABLE');
    t.regex(err!.message, /answered 429 and asks to wait 3600 s/);
  }
});

test('other 4xx fail at once with the registry error text', async (t) => {
  const { store, events, client } = await h.setup(t);
  const layer = h.small.image.manifest.layers[0]!.digest;
  const p = await h.proxy(t, (x, res) => {
    if (!isBlob(x.path, layer)) return false;
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"DIGEST_INVALID","message":"provided digest did not match uploaded content"}]}');
    return true;
  });
  const err = await t.throwsAsync<RegistryError>(client.pull(store, parseReference(`${p.host}/f/small:1`), { platform: AMD64 }));
  t.is(err?.code, 'TSBUILD_REGISTRY_ERROR');
  t.is(err?.status, 400);
  t.regex(err!.message, /answered 400: DIGEST_INVALID: provided digest did not match uploaded content/);
  t.is(retries(events), 0);
  await nothingStored(t, store);
});

test('an aborted pull stops and leaves nothing behind', async (t) => {
  const layer = h.big.image.manifest.layers[0]!.digest;
  const controller = new AbortController();
  const p = await h.proxy(t, async (x, res) => {
    if (x.method !== 'GET' || !isBlob(x.path, layer)) return false;
    const up = await x.forward();
    res.writeHead(200, up.headers);
    res.write(up.body.subarray(0, 1024 * 1024), () => controller.abort());
    return true;
  });
  const { store, client } = await h.setup(t);
  const err = await t.throwsAsync(client.pull(store, parseReference(`${p.host}/f/big:1`), { platform: AMD64, signal: controller.signal }));
  t.is(err?.name, 'AbortError');
  await nothingStored(t, store);
});
