/**
 * The registry configuration users already have, from the command line: a docker.io
 * mirror named only in a registries.conf drop-in (with a blocked registry and a warning
 * for what tsbuild does not apply), and one named only in dockerd's daemon.json. Against
 * Debian's docker-registry on 127.0.0.1 holding busybox as docker.io's
 * library/tsbuild-mirror-probe, a name Docker Hub cannot serve: pulling it proves the mirror
 * was used, whether or not the machine reaches the internet.
 */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileRegistry } from '@tsbuild/layerstore/testing';
import { tsbuild } from './helpers/cli.js';
import { pushBusybox } from './helpers/busybox.js';
import { tempDir } from './helpers/fixtures.js';

const registry = fileRegistry(test);
const PROBE = 'tsbuild-mirror-probe:1';

test.before(async () => {
  await pushBusybox(`${registry.host}/library/${PROBE}`);
});

test('a docker.io mirror named only in a registries.conf drop-in; a blocked registry; a warning for what is not applied', async (t) => {
  const dir = await tempDir('regconf', t);
  const root = join(dir, 'store');
  await writeFile(join(dir, '50-mirror.conf'), `[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "${registry.host}"\n`);
  await writeFile(join(dir, '60-policy.conf'), `unqualified-search-registries = ["docker.io", "quay.io"]\n[[registry]]\nlocation = "${registry.host}"\nblocked = true\n`);
  await writeFile(join(dir, 'ignored.txt'), 'not a drop-in');
  const env = { TSBUILD_REGISTRIES_CONF_D: dir };
  const pulled = await tsbuild(['pull', PROBE], { root, env });
  t.is(pulled.code, 0, pulled.stderr);
  t.regex(pulled.stderr, new RegExp(`\\(from ${registry.host.replace(/\./g, '\\.')}, image ID`), 'pulled from the mirror');
  t.true(pulled.stderr.includes(`WARNING: ${join(dir, '60-policy.conf')}: unqualified-search-registries lists quay.io`), pulled.stderr);
  t.is(pulled.stdout, `docker.io/library/${PROBE}\n`);
  const blocked = await tsbuild(['pull', `${registry.host}/library/${PROBE}`], { root, env });
  t.is(blocked.code, 1);
  t.true(blocked.stderr.includes(`registry ${registry.host} is blocked in ${join(dir, '60-policy.conf')}`), blocked.stderr);
  const without = await tsbuild(['pull', `${registry.host}/library/${PROBE}`], { root });
  t.is(without.code, 0, 'only the drop-in blocks it');
});

test("FROM through a mirror named only in daemon.json's registry-mirrors", async (t) => {
  const dir = await tempDir('daemonjson', t);
  const root = join(dir, 'store');
  await writeFile(join(dir, 'daemon.json'), JSON.stringify({ 'registry-mirrors': [`http://${registry.host}`], 'log-driver': 'journald' }));
  await writeFile(join(dir, 'Dockerfile'), `FROM ${PROBE}\nRUN echo via-daemon-json > /x\n`);
  const env = { TSBUILD_DOCKER_DAEMON_JSON: join(dir, 'daemon.json') };
  const built = await tsbuild(['build', '-q', '-t', 'via:1', dir], { root, env });
  t.is(built.code, 0, built.stderr);
  t.is((await tsbuild(['run', 'via:1', 'cat', '/x'], { root, env })).stdout, 'via-daemon-json\n');
});
