/**
 * Push and pull through a forward proxy (testing/forward-proxy.ts), as in a CI job behind a
 * corporate proxy. The registries are real docker-registry instances on 127.0.0.1, but the
 * references name them `registry.proxytest:PORT`, a name only the test proxy resolves: a
 * request that reaches them went through the proxy. Covers http registries (absolute form),
 * https ones (CONNECT + TLS inside, keep-alive), an https:// proxy, proxy auth (ok and 407),
 * NO_PROXY, an unsupported scheme, an unreachable or silent proxy, and the TLS probe.
 */
import test, { type ExecutionContext } from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Digest } from '../digest.js';
import { parseReference } from '../reference.js';
import { RegistryClient } from './client.js';
import type { RegistryError } from './errors.js';
import type { RegistryEvent } from './events.js';
import { HttpTransport } from './http.js';
import { AMD64, makeImage, selfSignedCert, testClient, testStore } from './testing/fixtures.js';
import { basic, startForwardProxy, type ForwardProxy } from './testing/forward-proxy.js';
import { freePort, startRegistry, type RunningRegistry } from './testing/registry-server.js';

const NAME = 'registry.proxytest';
let dir: string;
let caFile: string;
let plain: RunningRegistry;
let secure: RunningRegistry;
let cert: { cert: string; key: string };

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tsbuild-proxytest-'));
  // One self-signed certificate for the TLS registry (by name) and the https:// proxy (by IP).
  const { cert: certFile, key: keyFile } = await selfSignedCert(dir, NAME, `DNS:${NAME},IP:127.0.0.1`);
  caFile = certFile;
  cert = { cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
  [plain, secure] = await Promise.all([startRegistry(), startRegistry({ tls: { certificate: certFile, key: keyFile } })]);
});

test.after.always(async () => {
  await Promise.all([plain?.stop(), secure?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

async function proxy(t: ExecutionContext, opts: { tls?: boolean } = {}): Promise<ForwardProxy> {
  const p = await startForwardProxy({ hosts: { [NAME]: '127.0.0.1' }, ...(opts.tls ? { tls: cert } : {}) });
  t.teardown(() => p.stop());
  return p;
}

function client(t: ExecutionContext, env: NodeJS.ProcessEnv, opts: { insecure?: string[]; events?: RegistryEvent[]; timeoutMs?: number } = {}): RegistryClient {
  return testClient(t, {
    env,
    config: { insecure: opts.insecure ?? [] },
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.events ? { events: opts.events } : {}),
  });
}

/** Push a small image through `c` to `ref`, pull it back into another store; returns the digest. */
async function roundTrip(t: ExecutionContext, c: RegistryClient, ref: string): Promise<Digest> {
  const a = await testStore(t);
  const b = await testStore(t);
  const image = await makeImage(a.store, { layers: 2 });
  const pushed = await c.push(a.store, image, parseReference(ref));
  const pulled = await c.pull(b.store, parseReference(ref), { platform: AMD64 });
  t.is(pulled.digest, pushed.digest);
  t.is(pulled.image.id, image.id);
  return pushed.digest;
}

test('http registry through HTTP_PROXY: absolute-form requests, Proxy-Authorization on each', async (t) => {
  const p = await proxy(t);
  p.auth = basic('ci', 'p@ss');
  const host = `${NAME}:${plain.port}`;
  const c = client(t, { HTTP_PROXY: `http://ci:p%40ss@${p.host}` }, { insecure: [host] });
  await roundTrip(t, c, `${host}/px/plain:1`);
  t.true(p.requests.length > 5);
  t.true(p.requests.every((r) => r.url.startsWith(`http://${host}/v2/`)), 'absolute form');
  t.true(p.requests.every((r) => r.proxyAuthorization === basic('ci', 'p@ss')));
  t.deepEqual(p.connects, []);
});

test('https registry through HTTPS_PROXY: CONNECT, TLS to the registry inside, connections kept alive', async (t) => {
  const p = await proxy(t);
  const host = `${NAME}:${secure.port}`;
  const c = client(t, { HTTPS_PROXY: p.url, SSL_CERT_FILE: caFile });
  const digest = await roundTrip(t, c, `${host}/px/tls:1`);
  t.true(p.connects.length > 0);
  t.true(p.connects.every((target) => target === host));
  t.deepEqual(p.requests, [], 'nothing in clear through the proxy');
  // Keep-alive: more requests on the same client open no new tunnel.
  const before = p.connects.length;
  for (let i = 0; i < 5; i++) t.is((await c.resolve(parseReference(`${host}/px/tls:1`), { platform: AMD64 })).root.digest, digest);
  t.true(p.connects.length - before <= 1, `${p.connects.length - before} new tunnels for 5 resolves`);
});

test('an https:// proxy: TLS to the proxy, then TLS to the registry inside the tunnel', async (t) => {
  const p = await proxy(t, { tls: true });
  t.true(p.url.startsWith('https://'));
  const host = `${NAME}:${secure.port}`;
  await roundTrip(t, client(t, { HTTPS_PROXY: p.url, SSL_CERT_FILE: caFile }), `${host}/px/tlstls:1`);
  t.true(p.connects.length > 0);
});

test('proxy auth: the credentials of HTTPS_PROXY go with CONNECT; missing or wrong ones are a 407 error naming the proxy', async (t) => {
  const p = await proxy(t);
  p.auth = basic('ci', 'secret');
  const host = `${NAME}:${secure.port}`;
  await roundTrip(t, client(t, { HTTPS_PROXY: `http://ci:secret@${p.host}`, SSL_CERT_FILE: caFile }), `${host}/px/auth:1`);
  t.true(p.connectAuth.every((a) => a === basic('ci', 'secret')));

  const b = await testStore(t);
  const none = await t.throwsAsync<RegistryError>(client(t, { HTTPS_PROXY: p.url, SSL_CERT_FILE: caFile }).pull(b.store, parseReference(`${host}/px/auth:1`), { platform: AMD64 }));
  t.is(none?.code, 'TSBUILD_PROXY_REFUSED');
  t.is(none?.status, 407);
  t.regex(none!.message, new RegExp(`proxy ${p.host} \\(HTTPS_PROXY\\) refused CONNECT ${host}: 407 proxy authentication required \\(HTTPS_PROXY has no user:password\\)`));
  const wrong = await t.throwsAsync<RegistryError>(client(t, { HTTPS_PROXY: `http://ci:nope@${p.host}`, SSL_CERT_FILE: caFile }).pull(b.store, parseReference(`${host}/px/auth:1`), { platform: AMD64 }));
  t.is(wrong?.code, 'TSBUILD_PROXY_REFUSED');
  t.regex(wrong!.message, /407 proxy authentication required \(the user:password in HTTPS_PROXY was refused\)/);
  t.false(wrong!.message.includes('nope'));
});

test('proxy auth on absolute-form requests: a 407 is the proxy\'s, not the registry\'s', async (t) => {
  const p = await proxy(t);
  p.auth = basic('ci', 'secret');
  const host = `${NAME}:${plain.port}`;
  const b = await testStore(t);
  const err = await t.throwsAsync<RegistryError>(client(t, { http_proxy: p.host }, { insecure: [host] }).pull(b.store, parseReference(`${host}/px/none:1`), { platform: AMD64 }));
  t.is(err?.code, 'TSBUILD_PROXY_REFUSED');
  t.is(err?.status, 407);
  t.regex(err!.message, new RegExp(`proxy ${p.host} \\(http_proxy\\) refused HEAD http://${host}/v2/px/none/manifests/1: 407 proxy authentication required`));
});

test('NO_PROXY: a matching registry is reached directly, the proxy sees nothing', async (t) => {
  const p = await proxy(t);
  const host = `${NAME}:${secure.port}`;
  const b = await testStore(t);
  // Only the proxy knows the name, so going direct fails to resolve it: proof of the bypass.
  const err = await t.throwsAsync<RegistryError>(
    client(t, { HTTPS_PROXY: p.url, NO_PROXY: 'example.com,.proxytest', SSL_CERT_FILE: caFile }).pull(b.store, parseReference(`${host}/px/direct:1`), { platform: AMD64 }),
  );
  t.is(err?.code, 'TSBUILD_REGISTRY_UNAVAILABLE');
  t.regex(err!.message, /ENOTFOUND|EAI_AGAIN/);
  t.notRegex(err!.message, /cannot reach proxy|_PROXY/);
  t.deepEqual(p.connects, []);
  t.deepEqual(p.requests, []);
  // A NO_PROXY entry for another port of that host does not bypass.
  await roundTrip(t, client(t, { HTTPS_PROXY: p.url, NO_PROXY: `${NAME}:1`, SSL_CERT_FILE: caFile }), `${host}/px/direct:1`);
  t.true(p.connects.length > 0);
});

test('an unsupported proxy scheme fails the pull with a typed error, before any connection', async (t) => {
  const b = await testStore(t);
  const err = await t.throwsAsync<RegistryError>(client(t, { HTTPS_PROXY: 'socks5://127.0.0.1:1080' }).pull(b.store, parseReference(`${NAME}:${secure.port}/px/x:1`), { platform: AMD64 }));
  t.is(err?.code, 'TSBUILD_PROXY_INVALID');
  t.regex(err!.message, /HTTPS_PROXY="socks5:\/\/127\.0\.0\.1:1080": proxy scheme socks5 is not supported/);
});

test('an unreachable proxy: retried like any network error, then an error naming the proxy', async (t) => {
  const port = await freePort();
  const events: RegistryEvent[] = [];
  const b = await testStore(t);
  const host = `${NAME}:${secure.port}`;
  const err = await t.throwsAsync<RegistryError>(client(t, { HTTPS_PROXY: `127.0.0.1:${port}` }, { events }).pull(b.store, parseReference(`${host}/px/x:1`), { platform: AMD64 }));
  t.is(err?.code, 'TSBUILD_REGISTRY_UNAVAILABLE');
  t.regex(err!.message, new RegExp(`cannot reach proxy 127\\.0\\.0\\.1:${port} for ${host}: connect ECONNREFUSED`));
  t.true(events.some((e) => e.type === 'retry'));
});

test('a proxy that never answers CONNECT: the client timeout and the abort signal both end the wait', async (t) => {
  const silent = createServer((s: Socket) => s.on('error', () => {}));
  const held = new Set<Socket>();
  silent.on('connection', (s: Socket) => held.add(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of held) s.destroy();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const port = (silent.address() as { port: number }).port;
  const host = `${NAME}:${secure.port}`;
  const b = await testStore(t);

  const started = Date.now();
  const timedOut = await t.throwsAsync<RegistryError>(client(t, { HTTPS_PROXY: `127.0.0.1:${port}` }, { timeoutMs: 200 }).pull(b.store, parseReference(`${host}/px/x:1`), { platform: AMD64 }));
  t.is(timedOut?.code, 'TSBUILD_REGISTRY_UNAVAILABLE');
  t.regex(timedOut!.message, new RegExp(`no answer from proxy 127\\.0\\.0\\.1:${port} for ${host} in 0\\.2 s`));
  t.true(Date.now() - started < 10_000);

  const controller = new AbortController();
  setTimeout(() => controller.abort(), 150);
  const abortedAt = Date.now();
  const aborted = await t.throwsAsync(client(t, { HTTPS_PROXY: `127.0.0.1:${port}` }).pull(b.store, parseReference(`${host}/px/x:1`), { platform: AMD64, signal: controller.signal }));
  t.is(aborted?.name, 'AbortError');
  t.true(Date.now() - abortedAt < 5000, 'did not wait for the 60 s timeout');
});

test('probeTls goes through the tunnel: TLS behind it is told apart from plain HTTP', async (t) => {
  const p = await proxy(t);
  const http = new HttpTransport({ env: { HTTPS_PROXY: p.url }, userAgent: 'test', timeoutMs: 5000 });
  t.teardown(() => http.close());
  t.true(await http.probeTls(`${NAME}:${secure.port}`));
  t.false(await http.probeTls(`${NAME}:${plain.port}`));
  t.deepEqual(p.connects, [`${NAME}:${secure.port}`, `${NAME}:${plain.port}`]);
});

test('each redirect hop is checked against NO_PROXY again', async (t) => {
  // The registry (reached through the proxy) redirects to another name; only NO_PROXY decides how that hop goes.
  const redirecting = createHttpServer((_req, res) => {
    res.writeHead(302, { Location: 'http://blobs.proxytest:9/blob' });
    res.end();
  });
  await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => redirecting.close(() => resolve())));
  const url = new URL(`http://${NAME}:${(redirecting.address() as { port: number }).port}/v2/r/blobs/x`);
  const p = await proxy(t);

  const proxied = new HttpTransport({ env: { HTTP_PROXY: p.url }, userAgent: 'test', timeoutMs: 5000 });
  t.teardown(() => proxied.close());
  const res = await proxied.send({ method: 'GET', url, followRedirects: true, registry: NAME });
  res.body.resume();
  t.is(res.status, 502, 'the proxy does not know blobs.proxytest');
  t.deepEqual(p.requests.map((r) => r.url), [url.href, 'http://blobs.proxytest:9/blob']);

  const bypassing = new HttpTransport({ env: { HTTP_PROXY: p.url, NO_PROXY: 'blobs.proxytest' }, userAgent: 'test', timeoutMs: 5000 });
  t.teardown(() => bypassing.close());
  const err = await t.throwsAsync(bypassing.send({ method: 'GET', url, followRedirects: true, registry: NAME }));
  t.regex(String((err as NodeJS.ErrnoException).code), /ENOTFOUND|EAI_AGAIN/, 'the second hop went direct');
  t.is(p.requests.length, 3, 'only the first hop went through the proxy');
});
