/**
 * Registries from the command line, against Debian's docker-registry started by the
 * test on 127.0.0.1: FROM through a docker.io mirror, build --push and -o type=registry
 * read back by skopeo, images pushed by skopeo used as bases, --pull, login/logout with
 * basic auth, and a registry that is down.
 */
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileRegistry, startRegistry, freePort, TEST_USER } from '@tsbuild/layerstore/testing';
import { run, tsbuild } from './helpers/cli.js';
import { busyboxStore, pushBusybox } from './helpers/busybox.js';
import { tempDir, type Teardown } from './helpers/fixtures.js';

const registry = fileRegistry(test);

test.before(async () => {
  // The busybox base, pushed as docker.io's library/busybox would be on a mirror.
  await pushBusybox(`${registry.host}/library/busybox:latest`);
});

/** An empty store's root, removed when the test ends. */
async function freshStore(t: Teardown): Promise<string> {
  return join(await tempDir('regstore', t), 'store');
}

test('FROM busybox through a docker.io mirror; the image records its base; build --push is read back by skopeo', async (t) => {
  const root = await freshStore(t);
  const ctx = await tempDir('regctx', t);
  await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo pushed > /pushed\n');
  const res = await tsbuild(
    ['build', '--progress', 'plain', '--registry-mirror', registry.host, '-t', `${registry.host}/apps/demo:1`, '--push', '--iidfile', `${ctx}/iid`, '--metadata-file', `${ctx}/meta.json`, ctx],
    { root },
  );
  t.is(res.code, 0, res.stderr);
  const meta = JSON.parse(await readFile(`${ctx}/meta.json`, 'utf8')) as Record<string, string>;
  t.is(await readFile(`${ctx}/iid`, 'utf8'), meta['containerimage.digest'], 'iidfile holds the pushed digest');
  const images = (await tsbuild(['images'], { root })).stdout;
  t.regex(images, /^busybox\s+latest\s/m, 'the base was pulled into the store, like docker');
  await run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${registry.host}/apps/demo:1`, `oci:${ctx}/copy:demo`]);
  const index = JSON.parse(await readFile(`${ctx}/copy/index.json`, 'utf8')) as { manifests: Array<{ digest: string }> };
  t.is(index.manifests[0]!.digest, meta['containerimage.digest'], 'skopeo got the manifest we pushed');
  const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/apps/demo:1`])).stdout) as { annotations: Record<string, string> };
  t.is(raw.annotations['org.opencontainers.image.base.name'], 'docker.io/library/busybox:latest');
  t.regex(raw.annotations['org.opencontainers.image.base.digest']!, /^sha256:[0-9a-f]{64}$/);
  const again = await tsbuild(['run', `${registry.host}/apps/demo:1`, 'cat', '/pushed'], { root: await freshStore(t) });
  t.is(again.stdout, 'pushed\n', 'run pulls what it does not have');
});

test('-o type=registry,name=...; an image pushed by skopeo (Docker schema 2) works as a base', async (t) => {
  const root = await freshStore(t);
  const ctx = await tempDir('regout', t);
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${registry.host}/library/busybox\nRUN echo one > /one\n`);
  const res = await tsbuild(['build', '-q', '-o', `type=registry,name=${registry.host}/apps/out:1`, '-o', `type=docker,dest=${ctx}/img.tar`, '-t', 'local:1', ctx], { root });
  t.is(res.code, 0, res.stderr);
  await run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `docker-archive:${ctx}/img.tar`, `docker://${registry.host}/apps/from-skopeo:1`]);
  const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/apps/from-skopeo:1`])).stdout) as { mediaType: string };
  t.is(raw.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${registry.host}/apps/from-skopeo:1\nRUN cat /one > /two\n`);
  const child = await tsbuild(['build', '-q', '-t', 'child:1', ctx], { root: await freshStore(t) });
  t.is(child.code, 0, child.stderr);
  const out = await tsbuild(['run', `${registry.host}/apps/out:1`, 'cat', '/one'], { root: await freshStore(t) });
  t.is(out.stdout, 'one\n');
});

test('--pull asks the registry again; without it the store copy is used', async (t) => {
  const root = await freshStore(t);
  const ctx = await tempDir('regpull', t);
  const ref = `${registry.host}/apps/moving:latest`;
  for (const [content, file] of [['v1', 'Dockerfile.v1'], ['v2', 'Dockerfile.v2']] as const) {
    await writeFile(join(ctx, file), `FROM ${registry.host}/library/busybox\nRUN echo ${content} > /version\n`);
  }
  const pub = await freshStore(t);
  t.is((await tsbuild(['build', '-q', '-f', `${ctx}/Dockerfile.v1`, '-t', ref, '--push', ctx], { root: pub })).code, 0);
  await writeFile(join(ctx, 'Dockerfile'), `FROM ${ref}\nRUN cat /version\n`);
  t.regex((await tsbuild(['build', '--progress', 'plain', '--no-cache', ctx], { root })).stderr, / v1\n/);
  t.is((await tsbuild(['build', '-q', '-f', `${ctx}/Dockerfile.v2`, '-t', ref, '--push', ctx], { root: pub })).code, 0);
  t.regex((await tsbuild(['build', '--progress', 'plain', '--no-cache', ctx], { root })).stderr, / v1\n/, 'the store copy, without --pull');
  t.regex((await tsbuild(['build', '--progress', 'plain', '--pull', ctx], { root })).stderr, / v2\n/, 're-resolved with --pull (a new base: no cached step applies)');
});

test('login with a wrong and a right password; logout; push needs the credentials', async (t) => {
  const secure = await startRegistry({ auth: 'htpasswd' });
  t.teardown(() => secure.stop());
  const home = await tempDir('home', t);
  const root = await busyboxStore(t);
  const env = { HOME: home, DOCKER_CONFIG: join(home, '.docker') };
  const denied = await tsbuild(['push', 'busybox:latest', `${secure.host}/x/busybox:1`], { root, env });
  t.is(denied.code, 1);
  t.true(denied.stderr.includes(`${secure.host} requires a username and password`), denied.stderr);
  t.true(denied.stderr.includes(`tsbuild login ${secure.host}`), 'and says how to fix it');
  const bad = await tsbuild(['login', secure.host, '-u', TEST_USER.username, '-p', 'wrong'], { root, env });
  t.is(bad.code, 1);
  t.true(bad.stderr.includes(secure.host), bad.stderr);
  const good = await run('sh', ['-c', `printf '%s' '${TEST_USER.password}' | CONTAINERS_REGISTRIES_CONF=/dev/null TSBUILD_REGISTRIES_CONF_D= TSBUILD_DOCKER_DAEMON_JSON= TSBUILD_ROOT=${root} HOME=${home} DOCKER_CONFIG=${home}/.docker node ${join(process.cwd(), '..', 'packages/builder/dist/cli.js')} login ${secure.host} -u ${TEST_USER.username} --password-stdin`]);
  t.is(good.stdout, 'Login Succeeded\n');
  const config = JSON.parse(await readFile(join(home, '.docker', 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
  t.is(Buffer.from(config.auths[secure.host]!.auth, 'base64').toString(), `${TEST_USER.username}:${TEST_USER.password}`);
  const pushed = await tsbuild(['push', 'busybox:latest', `${secure.host}/x/busybox:1`], { root, env });
  t.is(pushed.code, 0, pushed.stderr);
  t.regex(pushed.stdout, /^sha256:[0-9a-f]{64}\n$/);
  t.is((await tsbuild(['logout', secure.host], { root, env })).stdout, `Removing login credentials for ${secure.host}\n`);
  t.is((await tsbuild(['pull', `${secure.host}/x/busybox:1`], { root: await freshStore(t), env })).code, 1, 'credentials are gone');
});

test('a registry that is down: retries, then an error naming the registry and the reference', async (t) => {
  const port = await freePort();
  const root = await freshStore(t);
  const res = await tsbuild(['pull', `127.0.0.1:${port}/nothing/here:1`], { root });
  t.is(res.code, 1);
  t.regex(res.stderr, new RegExp(`127\\.0\\.0\\.1:${port}.*nothing/here:1|nothing/here:1.*127\\.0\\.0\\.1:${port}`));
  t.regex(res.stderr, /retrying .* \(attempt 1, /, 'it retried before giving up');
  const bad = await tsbuild(['pull', 'Not_A/Valid::ref'], { root });
  t.is(bad.code, 1);
  t.regex(bad.stderr, /invalid reference/);
});
