/** registries.conf files parsed and put in tsbuild's terms: what applies, what warns, what is an error. */
import test from 'ava';
import type { RegistryConfig } from './config.js';
import { mergeSources } from './config-merge.js';
import { pullEndpoints, pushEndpoint } from './endpoints.js';
import { registriesConfSource } from './registries-conf-map.js';
import { parseRegistriesConf } from './registries-conf-parse.js';
import { namesEndpoint } from './runtime.js';

const FILE = '/test/registries.conf';

function load(text: string): RegistryConfig {
  return mergeSources([registriesConfSource({ conf: parseRegistriesConf(text, FILE), files: [FILE] })]);
}

const endpoints = async (config: RegistryConfig, registry: string, byDigest = false) =>
  (await pullEndpoints(config, registry, { byDigest })).map((e) => `${e.scheme}://${e.host}${e.namespace ? `/${e.namespace}` : ''}`);

test('mirrors, insecure mirrors and namespaces of a registry', async (t) => {
  const config = load(`
unqualified-search-registries = ["docker.io"]
[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "127.0.0.1:5000"
insecure = true
[[registry.mirror]]
location = "harbor.lan/dockerhub/"
[[registry]]
location = "reg.lan:5000"
insecure = true
`);
  t.deepEqual(await endpoints(config, 'docker.io'), ['http://127.0.0.1:5000', 'https://harbor.lan/dockerhub', 'https://registry-1.docker.io']);
  t.deepEqual(await endpoints(config, 'reg.lan:5000'), ['http://reg.lan:5000']);
  t.is(config.warnings, undefined, 'a plain config applies as a whole');
});

test('mirror-by-digest-only and pull-from-mirror choose mirrors by how the image is named', async (t) => {
  const config = load(`
[[registry]]
location = "quay.io"
mirror-by-digest-only = true
[[registry.mirror]]
location = "q.mirror"
[[registry]]
location = "ghcr.io"
[[registry.mirror]]
location = "digest.mirror"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "tag.mirror"
pull-from-mirror = "tag-only"
[[registry.mirror]]
location = "all.mirror"
pull-from-mirror = "all"
`);
  t.deepEqual(await endpoints(config, 'quay.io'), ['https://quay.io']);
  t.deepEqual(await endpoints(config, 'quay.io', true), ['https://q.mirror', 'https://quay.io']);
  t.deepEqual(await endpoints(config, 'ghcr.io'), ['https://tag.mirror', 'https://all.mirror', 'https://ghcr.io']);
  t.deepEqual(await endpoints(config, 'ghcr.io', true), ['https://digest.mirror', 'https://all.mirror', 'https://ghcr.io']);
});

test('blocked registries refuse pulls and pushes, naming the file', async (t) => {
  const config = load('[[registry]]\nlocation = "evil.example"\nblocked = true\n');
  await t.throwsAsync(pullEndpoints(config, 'evil.example'), { code: 'TSBUILD_REGISTRY_BLOCKED', message: `registry evil.example is blocked in ${FILE}` });
  await t.throwsAsync(pushEndpoint(config, 'evil.example'), { code: 'TSBUILD_REGISTRY_BLOCKED' });
  t.is((await pushEndpoint(config, 'good.example')).host, 'good.example');
});

test('what tsbuild cannot apply is a warning naming the file, never silently dropped', (t) => {
  const config = load(`
unqualified-search-registries = ["registry.fedoraproject.org", "docker.io", "quay.io"]
credential-helpers = ["containers-auth.json", "secretservice"]
short-name-mode = "enforcing"
[[registry]]
prefix = "*.corp.example"
blocked = true
[[registry]]
prefix = "docker.io/myorg"
location = "docker.io/myorg"
insecure = true
[[registry]]
prefix = "example.com"
location = "mirror.internal/example"
[[registry]]
prefix = "docker.io/library"
location = "docker.io/library"
`);
  t.deepEqual(config.mirrors, {});
  t.is(config.blocked, undefined);
  t.deepEqual(config.insecure, []);
  t.deepEqual(config.warnings, [
    `${FILE}: [[registry]] prefix "*.corp.example": tsbuild does not match registries by wildcard, so its settings (blocked = true) are not applied`,
    `${FILE}: [[registry]] prefix "docker.io/myorg": tsbuild applies registries.conf per registry host, not per namespace, so its settings (insecure = true) are not applied`,
    `${FILE}: [[registry]] prefix "example.com": tsbuild applies registries.conf per registry host, not per namespace, so its settings (location "mirror.internal/example") are not applied`,
    `${FILE}: unqualified-search-registries lists registry.fedoraproject.org, quay.io; tsbuild, like docker, reads short names as docker.io names only, so they are not searched`,
    `${FILE}: credential-helpers secretservice is not used; tsbuild takes credentials from ~/.docker/config.json (auths, credsStore, credHelpers)`,
  ]);
});

test('aliases: kept only where they send a short name away from docker.io; "" removes one', (t) => {
  const base = parseRegistriesConf('[aliases]\n"fedora" = "registry.fedoraproject.org/fedora"\n"busybox" = "docker.io/library/busybox"\n"alpine" = "docker.io/alpine"\n"opensuse/leap" = "registry.opensuse.org/opensuse/leap"\n"centos" = "quay.io/centos/centos"\n', FILE);
  const dropIn = parseRegistriesConf('[aliases]\n"centos" = ""\n', '/test/d.conf', { dropIn: true });
  const merged = { ...base, aliases: { ...base.aliases, ...dropIn.aliases } };
  const config = mergeSources([registriesConfSource({ conf: merged, files: [FILE] })]);
  t.deepEqual(config.aliases, {
    'library/fedora': { target: 'registry.fedoraproject.org/fedora', origin: FILE },
    'opensuse/leap': { target: 'registry.opensuse.org/opensuse/leap', origin: FILE },
  });
  t.throws(() => load('[aliases]\n"fedora" = "fedora:39"\n'), { code: 'TSBUILD_CONFIG_INVALID', message: /registries\.conf: alias "fedora"/ });
  t.throws(() => load('[aliases]\n"quay.io/x" = "quay.io/x"\n'), { code: 'TSBUILD_CONFIG_INVALID', message: /short name/ });
});

test('the v1 format is converted; in a drop-in, or mixed with v2, it is an error', async (t) => {
  const config = load('[registries.search]\nregistries = ["docker.io"]\n[registries.insecure]\nregistries = ["reg.lan:5000"]\n[registries.block]\nregistries = ["evil.example"]\n');
  t.deepEqual(config.insecure, ['reg.lan:5000']);
  t.deepEqual(config.blocked, { 'evil.example': FILE });
  t.throws(() => parseRegistriesConf('[registries.search]\nregistries = []\n', '/d/x.conf', { dropIn: true }), { code: 'TSBUILD_CONFIG_INVALID', message: /^\/d\/x\.conf: a drop-in must use the v2 format/ });
  t.throws(() => parseRegistriesConf('unqualified-search-registries = []\n[registries.search]\nregistries = []\n', FILE), { message: /mixes the v1 format/ });
});

test('malformed files are errors naming the file (and the line for TOML)', (t) => {
  const cases: Array<[string, RegExp]> = [
    ['[[registry]]\nlocation = "docker.io"\n[[registry.mirror]\n', /registries\.conf:3: not valid TOML/],
    ['[[registry]]\nlocation = "https://docker.io"\n', /URI schemes are not supported/],
    ['[[registry]]\nlocation = "a.lan"\ninsecure = true\n[[registry]]\nprefix = "a.lan/x"\nlocation = "a.lan"\n', /defined more than once with different "insecure"/],
    ['[[registry]]\nlocation = "a.lan"\npull-from-mirror = "all"\n', /pull-from-mirror may only be set on a \[\[registry\.mirror\]\]/],
    ['[[registry]]\nlocation = "a.lan"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m"\npull-from-mirror = "tag-only"\n', /cannot be combined/],
    ['[[registry]]\nlocation = "a.lan"\n[[registry.mirror]]\nlocation = "m"\npull-from-mirror = "sometimes"\n', /unsupported pull-from-mirror "sometimes"/],
    ['[[registry]]\ninsecure = true\n', /neither location nor prefix/],
    ['[[registry]]\nprefix = "*.a.lan:5000"\n', /wildcard prefix/],
    ['[[registry]]\nlocation = "a.lan"\nblocked = "yes"\n', /\[\[registry\]\] #1 blocked must be true or false/],
    ['unqualified-search-registries = ["docker.io/library"]\n', /invalid unqualified-search-registries entry/],
    ['short-name-mode = "sometimes"\n', /invalid short-name-mode/],
    ['registry = "docker.io"\n', /registry must be an array of tables/],
  ];
  for (const [text, message] of cases) {
    t.throws(() => load(text), { code: 'TSBUILD_CONFIG_INVALID', message }, text);
    t.throws(() => load(text), { message: /^\/test\/registries\.conf[:]/ }, text);
  }
});

test('within one file the first entry of a prefix wins', async (t) => {
  const config = load('[[registry]]\nlocation = "a.lan"\n[[registry.mirror]]\nlocation = "first.mirror"\n[[registry]]\nlocation = "a.lan"\n[[registry.mirror]]\nlocation = "second.mirror"\n');
  t.deepEqual(await endpoints(config, 'a.lan'), ['https://first.mirror', 'https://a.lan']);
});

test('a mirror naming the registry itself, or listed twice, is tried once', async (t) => {
  const config = load('[[registry]]\nlocation = "a.lan:5000"\n[[registry.mirror]]\nlocation = "m.lan"\n[[registry.mirror]]\nlocation = "a.lan:5000"\n[[registry.mirror]]\nlocation = "M.lan"\n');
  t.deepEqual(await endpoints(config, 'a.lan:5000'), ['https://m.lan', 'https://a.lan:5000']);
  t.deepEqual(await endpoints({ mirrors: { 'docker.io': ['registry-1.docker.io', 'http://m.lan', 'm.lan'] } }, 'docker.io'), ['http://m.lan', 'https://registry-1.docker.io']);
});

test('namesEndpoint: a whole host, not the prefix of a longer one', (t) => {
  t.true(namesEndpoint('manifest 1: cannot reach mirror 10.0.0.1:5000: ECONNREFUSED', 'mirror 10.0.0.1:5000'));
  t.true(namesEndpoint('x on mirror m.lan.', 'mirror m.lan'));
  t.false(namesEndpoint('cannot reach mirror 10.0.0.1:50001: ECONNREFUSED', 'mirror 10.0.0.1:5000'));
  t.false(namesEndpoint('cannot reach mirror m.lan:5000', 'mirror m.lan'));
  t.false(namesEndpoint('cannot reach mirror m.lan/ns', 'mirror m.lan'));
  t.false(namesEndpoint('digest mismatch', 'mirror m.lan'));
});
