/**
 * Authentication against real docker-registry instances: htpasswd basic auth (with login
 * and logout writing a docker config), a bearer token server run by the test (scopes,
 * token reuse, refresh on 401, refusals, a 50 MiB token body, an unsafe realm), and TLS
 * trusted through SSL_CERT_FILE.
 */
import test from 'ava';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseReference } from '../reference.js';
import { tempDir } from '../testing/fstree.js';
import { dockerConfigPath } from './credentials.js';
import type { RegistryError } from './errors.js';
import type { RegistryEvent } from './events.js';
import { login, logout } from './login.js';
import { AMD64, blobsIn, makeImage, selfSignedCert, tagsIn, testClient, testStore } from './testing/fixtures.js';
import { startProxy, type TestProxy } from './testing/proxy.js';
import { startRegistry, TEST_USER, type RunningRegistry } from './testing/registry-server.js';
import { startTokenServer, type TokenServer } from './testing/token-server.js';

let basic: RunningRegistry;
let tokenRegistry: RunningRegistry;
let tokens: TokenServer;
let realmProxy: TestProxy;

test.before(async () => {
  tokens = await startTokenServer({ [TEST_USER.username]: TEST_USER.password, other: 'other-pw' });
  [basic, tokenRegistry] = await Promise.all([startRegistry({ auth: 'htpasswd' }), startRegistry({ auth: { token: tokens.auth } })]);
  // Same registry, but its challenge names a realm at the cloud metadata address.
  realmProxy = await startProxy({ host: '127.0.0.1', port: tokenRegistry.port }, async (x, res) => {
    const up = await x.forward();
    const challenge = up.headers['www-authenticate'];
    if (typeof challenge === 'string') up.headers['www-authenticate'] = challenge.replace(/realm="[^"]*"/, 'realm="http://169.254.169.254/latest/meta-data/token"');
    res.writeHead(up.status, up.headers);
    res.end(up.body);
    return true;
  });
});

test.after.always(async () => {
  await realmProxy?.stop();
  await Promise.all([basic?.stop(), tokenRegistry?.stop(), tokens?.stop()]);
});

async function dockerConfigDir(t: Parameters<typeof tempDir>[0]): Promise<NodeJS.ProcessEnv> {
  const dir = await tempDir(t, 'tsbuild-dockercfg-');
  return { DOCKER_CONFIG: dir, HOME: dir, PATH: '/usr/bin:/bin' };
}

test('htpasswd: no credentials, wrong password, then login writes the docker config and push/pull work; logout', async (t) => {
  const env = await dockerConfigDir(t);
  const a = await testStore(t);
  const image = await makeImage(a.store);
  const ref = parseReference(`${basic.host}/basic/app:1`);

  const anon = testClient(t, { env });
  const none = await t.throwsAsync<RegistryError>(anon.push(a.store, image, ref));
  t.is(none?.code, 'TSBUILD_REGISTRY_AUTH');
  t.regex(none!.message, new RegExp(`push ${basic.host}/basic/app:1: .*requires a username and password.*tsbuild login ${basic.host}`));

  const wrong = testClient(t, { env, credentials: () => ({ username: TEST_USER.username, password: 'nope' }) });
  const bad = await t.throwsAsync<RegistryError>(wrong.push(a.store, image, ref));
  t.is(bad?.code, 'TSBUILD_REGISTRY_AUTH');
  t.regex(bad!.message, /rejected the username or password/);

  const badLogin = await t.throwsAsync<RegistryError>(login(basic.host, { username: TEST_USER.username, password: 'nope' }, { env }));
  t.is(badLogin?.code, 'TSBUILD_REGISTRY_AUTH');
  await t.throwsAsync(stat(dockerConfigPath(env)), { code: 'ENOENT' }, 'a failed login writes nothing');

  await login(basic.host, TEST_USER, { env });
  const cfg = JSON.parse(await readFile(dockerConfigPath(env), 'utf8')) as { auths: Record<string, { auth: string }> };
  t.is(Buffer.from(cfg.auths[basic.host]!.auth, 'base64').toString(), `${TEST_USER.username}:${TEST_USER.password}`);

  const c = testClient(t, { env });
  const pushed = await c.push(a.store, image, ref);
  const b = await testStore(t);
  const pulled = await c.pull(b.store, ref, { platform: AMD64 });
  t.is(pulled.digest, pushed.digest);

  t.true(await logout(basic.host, { env }));
  const after = testClient(t, { env });
  await t.throwsAsync(after.pull(b.store, ref, { platform: AMD64 }), { code: 'TSBUILD_REGISTRY_AUTH' });
});

test.serial('bearer: push with pull,push scope, one token for the whole push, anonymous pull with a pull scope', async (t) => {
  const a = await testStore(t);
  const image = await makeImage(a.store, { layers: 3 });
  const ref = parseReference(`${tokenRegistry.host}/tok/app:1`);
  const c = testClient(t, { credentials: () => TEST_USER });
  const start = tokens.log.length;
  const pushed = await c.push(a.store, image, ref);
  const used = tokens.log.slice(start);
  t.deepEqual(used, [{ account: TEST_USER.username, scopes: ['repository:tok/app:pull,push'], authorized: true }], 'one token, reused for every request of the push');

  const anon = testClient(t, { credentials: () => undefined });
  const b = await testStore(t);
  const mid = tokens.log.length;
  const pulled = await anon.pull(b.store, ref, { platform: AMD64 });
  t.is(pulled.digest, pushed.digest);
  t.deepEqual(tokens.log.slice(mid), [{ account: undefined, scopes: ['repository:tok/app:pull'], authorized: false }]);

  // Anonymous users get no push right: the registry refuses the fresh token too.
  const err = await t.throwsAsync<RegistryError>(anon.push(a.store, image, parseReference(`${tokenRegistry.host}/tok/anon:1`)));
  t.is(err?.code, 'TSBUILD_REGISTRY_AUTH');
});

test.serial('bearer: a mount from a repository the user may not read falls back to an upload', async (t) => {
  const a = await testStore(t);
  const image = await makeImage(a.store, { layers: 1 });
  const owner = testClient(t, { credentials: () => TEST_USER });
  await owner.push(a.store, image, parseReference(`${tokenRegistry.host}/private/base:1`));
  const events: RegistryEvent[] = [];
  const other = testClient(t, { credentials: () => ({ username: 'other', password: 'other-pw' }), events });
  const pushed = await other.push(a.store, image, parseReference(`${tokenRegistry.host}/tok/other:1`));
  t.truthy(pushed.digest);
  t.true(tokens.log.some((l) => l.account === 'other' && l.scopes.includes('repository:private/base:pull')), 'a mount was attempted');
  t.false(events.some((e) => e.type === 'blob' && e.status === 'mounted'));
  t.is(events.filter((e) => e.type === 'blob' && e.status === 'uploaded').length, 2);
});

test.serial('bearer: an expired token is refreshed once on 401', async (t) => {
  const a = await testStore(t);
  const image = await makeImage(a.store, { layers: 1 });
  const c = testClient(t, { credentials: () => TEST_USER });
  tokens.expiredTokens = 1;
  const start = tokens.log.length;
  await c.push(a.store, image, parseReference(`${tokenRegistry.host}/tok/refresh:1`));
  t.is(tokens.log.length - start, 2, 'the refused token was replaced');
});

test.serial('bearer: wrong password is refused by the token server; nothing stored', async (t) => {
  const b = await testStore(t);
  const c = testClient(t, { credentials: () => ({ username: TEST_USER.username, password: 'wrong' }) });
  const err = await t.throwsAsync<RegistryError>(c.pull(b.store, parseReference(`${tokenRegistry.host}/tok/app:1`), { platform: AMD64 }));
  t.is(err?.code, 'TSBUILD_REGISTRY_AUTH');
  t.regex(err!.message, new RegExp(`pull ${tokenRegistry.host}/tok/app:1: token server 127\\.0\\.0\\.1:\\d+ refused the username or password for tsbuild`));
  t.is((await blobsIn(b.store)).size, 0);
  t.deepEqual(await tagsIn(b.store), []);
});

test.serial('bearer: a 50 MiB token answer is refused at 1 MiB (case 68)', async (t) => {
  const a = await testStore(t);
  const c = testClient(t, { credentials: () => TEST_USER });
  let sent = 0;
  tokens.override = (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    const write = () => {
      while (sent < 50) {
        sent++;
        if (!res.write(chunk)) return void res.once('drain', write);
      }
      res.end();
    };
    res.on('error', () => {});
    res.write('{"token": "');
    write();
    return true;
  };
  t.teardown(() => void (tokens.override = undefined));
  const err = await t.throwsAsync<RegistryError>(c.pull(a.store, parseReference(`${tokenRegistry.host}/tok/app:1`), { platform: AMD64 }));
  t.is(err?.code, 'TSBUILD_REGISTRY_TOO_LARGE');
  t.regex(err!.message, /token response .* more than 1048576/);
  t.true(sent < 50, 'stopped reading long before the end');
  t.is((await blobsIn(a.store)).size, 0);
});

test('bearer: a realm at a link-local address is refused before any request goes there', async (t) => {
  const a = await testStore(t);
  const c = testClient(t, { credentials: () => TEST_USER });
  const err = await t.throwsAsync<RegistryError>(c.pull(a.store, parseReference(`${realmProxy.host}/tok/app:1`), { platform: AMD64 }));
  t.is(err?.code, 'TSBUILD_REGISTRY_UNSAFE');
  t.regex(err!.message, /refusing token realm "http:\/\/169\.254\.169\.254/);
});

test('TLS: a registry with a private CA works through SSL_CERT_FILE, and without it fails (no fallback to http)', async (t) => {
  const { cert, key } = await selfSignedCert(await tempDir(t, 'tsbuild-tls-'), '127.0.0.1', 'IP:127.0.0.1');
  const tls = await startRegistry({ tls: { certificate: cert, key } });
  t.teardown(() => tls.stop());
  const a = await testStore(t);
  const image = await makeImage(a.store, { layers: 1 });
  const ref = parseReference(`${tls.host}/tls/app:1`);
  const c = testClient(t, { env: { SSL_CERT_FILE: cert } });
  const pushed = await c.push(a.store, image, ref);
  const b = await testStore(t);
  t.is((await c.pull(b.store, ref, { platform: AMD64 })).digest, pushed.digest);

  const untrusting = testClient(t, { env: {} });
  const err = await t.throwsAsync<RegistryError>(untrusting.pull(b.store, parseReference(`${tls.host}/tls/app:1`), { platform: AMD64 }));
  t.is(err?.code, 'TSBUILD_REGISTRY_UNAVAILABLE');
  t.regex(err!.message, /self.signed certificate/);
});

test.serial('a 401 after a redirect to another host is not answered with credentials (case 59)', async (t) => {
  // The registry answers every request with a redirect to another host that asks for a token.
  const seen: Array<string | undefined> = [];
  const other = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="${tokens.realm}",service="x"` });
    res.end();
  });
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => other.close(() => resolve())));
  const port = (other.address() as AddressInfo).port;
  const redirecting = await startProxy({ host: '127.0.0.1', port: basic.port }, async (x, res) => {
    if (x.method === 'GET' && x.path.includes('/manifests/')) {
      res.writeHead(307, { Location: `http://localhost:${port}${x.path}` });
      res.end();
      return true;
    }
    return false;
  });
  t.teardown(() => redirecting.stop());
  const events: RegistryEvent[] = [];
  const c = testClient(t, { credentials: () => TEST_USER, events });
  const b = await testStore(t);
  const start = tokens.log.length;
  const err = await t.throwsAsync<RegistryError>(c.pull(b.store, parseReference(`${redirecting.host}/basic/app:1`), { platform: AMD64, tag: false }));
  t.is(err?.code, 'TSBUILD_REGISTRY_AUTH');
  t.regex(err!.message, /redirected to localhost:\d+, which asks for credentials/);
  t.deepEqual(seen, [undefined]);
  t.is(tokens.log.length, start, 'no token was fetched for the other host');
});
