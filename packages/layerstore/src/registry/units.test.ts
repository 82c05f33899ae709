/** Unit tests: SSRF rules, challenges, Retry-After, credentials. No network. */
import test from 'ava';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseChallenges } from './auth.js';
import { credentialsFor, dockerConfigPath, removeCredentials, saveCredentials } from './credentials.js';
import { parseManifest } from './manifest.js';
import { checkRedirect, isInternalAddress, validateRealm } from './net-policy.js';
import { retryAfterMs } from './retry.js';

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-regunit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('SSRF: redirects to internal addresses on another host are refused, same host allowed', (t) => {
  const origin = new URL('https://registry.example/v2/x/blobs/sha256:1');
  const bad = ['http://169.254.169.254/latest', 'https://[fd00:ec2::254]/', 'https://10.0.0.1/', 'https://127.0.0.1:9/', 'https://[::ffff:169.254.169.254]/', 'https://0.0.0.0/'];
  for (const to of bad) t.throws(() => checkRedirect(origin, origin, new URL(to), 'r'), { code: 'TSBUILD_REGISTRY_UNSAFE' }, to);
  t.notThrows(() => checkRedirect(origin, origin, new URL('https://cdn.example/blob'), 'r'));
  const local = new URL('http://127.0.0.1:5000/v2/x/blobs/sha256:1');
  t.notThrows(() => checkRedirect(local, local, new URL('http://127.0.0.1:9000/storage'), 'r'));
  t.throws(() => checkRedirect(origin, origin, new URL('http://cdn.example/blob'), 'r'), { message: /downgrade/ });
  t.throws(() => checkRedirect(origin, origin, new URL('file:///etc/passwd'), 'r'));
  t.true(isInternalAddress('100.100.100.200'));
  t.false(isInternalAddress('8.8.8.8'));
});

test('realm: https in the registry domain; an address realm only on the registry host', (t) => {
  const hub = { host: 'registry-1.docker.io', scheme: 'https' as const };
  t.is(validateRealm('https://auth.docker.io/token', hub, 'docker.io').host, 'auth.docker.io');
  t.throws(() => validateRealm('http://auth.docker.io/token', hub, 'docker.io'), { code: 'TSBUILD_REGISTRY_UNSAFE' });
  t.throws(() => validateRealm('https://evil.example/token', hub, 'docker.io'), { message: /domain/ });
  t.throws(() => validateRealm('https://169.254.169.254/token', hub, 'docker.io'), { message: /link-local/ });
  const local = { host: '127.0.0.1:5000', scheme: 'http' as const };
  t.notThrows(() => validateRealm('http://127.0.0.1:8080/token', local, 'r'));
  t.throws(() => validateRealm('http://10.0.0.5/token', local, 'r'));
  t.throws(() => validateRealm('https://auth.example/token', local, 'r'));
});

test('challenges: several, quoted values with escapes and commas', (t) => {
  t.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push", Basic realm="x \\"y\\""'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:a/b:pull,push' } },
    { scheme: 'basic', params: { realm: 'x "y"' } },
  ]);
  t.deepEqual(parseChallenges(['Basic realm=plain']), [{ scheme: 'basic', params: { realm: 'plain' } }]);
  t.deepEqual(parseChallenges(undefined), []);
});

test('Retry-After: seconds and HTTP dates', (t) => {
  t.is(retryAfterMs('2'), 2000);
  t.is(retryAfterMs(new Date(10_000).toUTCString(), 4000), 6000);
  t.is(retryAfterMs('soon'), undefined);
  t.is(retryAfterMs(undefined), undefined);
});

test('manifest checks: media-type confusion, ambiguity, bad descriptors (cases 55, 65, 66)', (t) => {
  const d = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${'a'.repeat(64)}`, size: 1 };
  const cfg = { ...d, mediaType: 'application/vnd.oci.image.config.v1+json' };
  const m = (doc: object) => Buffer.from(JSON.stringify(doc));
  const oci = 'application/vnd.oci.image.manifest.v1+json';
  t.truthy(parseManifest(m({ schemaVersion: 2, mediaType: oci, config: cfg, layers: [d] }), oci, 'w').manifest);
  t.truthy(parseManifest(m({ schemaVersion: 2, config: cfg, layers: [d] }), 'application/json', 'w').manifest);
  t.throws(() => parseManifest(m({ schemaVersion: 2, mediaType: oci, config: cfg, layers: [d] }), 'application/vnd.docker.distribution.manifest.v2+json', 'w'), { code: 'TSBUILD_MANIFEST_INVALID', message: /Content-Type/ });
  t.throws(() => parseManifest(m({ architecture: 'amd64', os: 'linux', rootfs: {} }), 'application/vnd.oci.image.config.v1+json', 'w'), { code: 'TSBUILD_MANIFEST_INVALID' });
  t.throws(() => parseManifest(m({ schemaVersion: 2, config: cfg, layers: [d] }), 'application/vnd.oci.image.config.v1+json', 'w'), { message: /not a manifest/ });
  t.throws(() => parseManifest(m({ schemaVersion: 2, config: cfg, layers: [d], manifests: [] }), oci, 'w'), { message: /ambiguous/ });
  for (const digest of [`sha256:${'A'.repeat(64)}`, `sha256:${'a'.repeat(63)}`, 'sha256:../../etc', `md5:${'a'.repeat(32)}`, `sha512:${'a'.repeat(64)}`]) {
    t.throws(() => parseManifest(m({ schemaVersion: 2, config: cfg, layers: [{ ...d, digest }] }), oci, 'w'), { message: /invalid digest/ }, digest);
  }
  for (const size of [-1, 2 ** 62, 1.5, '3']) t.throws(() => parseManifest(m({ schemaVersion: 2, config: cfg, layers: [{ ...d, size }] }), oci, 'w'), { message: /invalid size/ });
  t.throws(() => parseManifest(m({ schemaVersion: 2, config: cfg, layers: [d] }), oci, 'w', { mediaType: 'application/vnd.docker.distribution.manifest.v2+json' }), { message: /index describes/ });
  t.throws(() => parseManifest(m({ schemaVersion: 1 }), undefined, 'w'), { code: 'TSBUILD_UNSUPPORTED' });
});

test('credentials: auths in every key form, base64, identity token; docker.io key', async (t) => {
  const dir = await tempDir(t);
  const env = { DOCKER_CONFIG: dir, PATH: '/nonexistent' };
  t.is(await credentialsFor('r.example', env), undefined);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  await writeFile(
    dockerConfigPath(env),
    JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
        'https://r.example/v1/': { auth: b64('ruser:rpass') },
        'localhost:5000': { username: 'u', password: 'p' },
        'tok.example': { identitytoken: 'refresh-me' },
      },
    }),
  );
  t.deepEqual(await credentialsFor('docker.io', env), { username: 'hubuser', password: 'hub:pass' });
  t.deepEqual(await credentialsFor('registry-1.docker.io', env), { username: 'hubuser', password: 'hub:pass' });
  t.deepEqual(await credentialsFor('r.example', env), { username: 'ruser', password: 'rpass' });
  t.deepEqual(await credentialsFor('localhost:5000', env), { username: 'u', password: 'p' });
  t.deepEqual(await credentialsFor('tok.example', env), { identityToken: 'refresh-me' });
});

test('credentials: save keeps other keys, mode 0600; remove; helpers get/store/erase', async (t) => {
  const dir = await tempDir(t);
  const bin = join(dir, 'bin');
  await mkdir(bin);
  const env = { DOCKER_CONFIG: join(dir, 'cfg'), PATH: `${bin}:/usr/bin:/bin`, HELPER_LOG: join(dir, 'helper.log') };
  await mkdir(env.DOCKER_CONFIG);
  await writeFile(dockerConfigPath(env), JSON.stringify({ auths: { 'other.example': { auth: 'eDp5' } }, experimental: 'enabled' }));
  await saveCredentials('r.example:5000', { username: 'me', password: 'pw' }, env);
  const saved = JSON.parse(await readFile(dockerConfigPath(env), 'utf8')) as { auths: Record<string, { auth: string }>; experimental: string };
  t.is(saved.experimental, 'enabled');
  t.is(saved.auths['other.example']!.auth, 'eDp5');
  t.is(Buffer.from(saved.auths['r.example:5000']!.auth, 'base64').toString(), 'me:pw');
  const { stat } = await import('node:fs/promises');
  t.is((await stat(dockerConfigPath(env))).mode & 0o777, 0o600);
  t.true(await removeCredentials('r.example:5000', env));
  t.false(await removeCredentials('r.example:5000', env));
  t.is(await credentialsFor('r.example:5000', env), undefined);

  // A credential helper: docker-credential-tstest on PATH.
  const helper = join(bin, 'docker-credential-tstest');
  await writeFile(
    helper,
    `#!/bin/sh
read -r input || true
echo "$1 $input" >> "$HELPER_LOG"
case "$1" in
  get) if [ "$input" = "h.example" ]; then echo '{"ServerURL":"h.example","Username":"helper-user","Secret":"helper-pw"}'; elif [ "$input" = "t.example" ]; then echo '{"Username":"<token>","Secret":"idtok"}'; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store|erase) exit 0 ;;
esac
`,
  );
  await chmod(helper, 0o755);
  await writeFile(dockerConfigPath(env), JSON.stringify({ credsStore: 'tstest', credHelpers: { 'missing.example': 'not-installed' }, auths: { 'missing.example': { auth: Buffer.from('file:pw').toString('base64') } } }));
  t.deepEqual(await credentialsFor('h.example', env), { username: 'helper-user', password: 'helper-pw' });
  t.deepEqual(await credentialsFor('t.example', env), { identityToken: 'idtok' });
  t.is(await credentialsFor('none.example', env), undefined);
  t.deepEqual(await credentialsFor('missing.example', env), { username: 'file', password: 'pw' }, 'a helper that is not installed falls back to auths');
  await saveCredentials('h.example', { username: 'a', password: 'b' }, env);
  const log = await readFile(env.HELPER_LOG, 'utf8');
  t.regex(log, /store \{"ServerURL":"h.example","Username":"a","Secret":"b"\}/);
  const after = JSON.parse(await readFile(dockerConfigPath(env), 'utf8')) as { auths: Record<string, object> };
  t.deepEqual(after.auths['h.example'], {}, 'the secret went to the helper, not the file');
  t.true(await removeCredentials('h.example', env));
  t.regex(await readFile(env.HELPER_LOG, 'utf8'), /erase h\.example/);
});
