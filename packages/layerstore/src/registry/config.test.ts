/**
 * Registry config sources: which files are read, their precedence, merging without
 * duplicates, daemon.json, insecure CIDRs. Every path is a temporary one: nothing here
 * reads this machine's /etc/containers, /etc/docker or /etc/tsbuild.
 */
import test from 'ava';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadRegistryConfig, type LoadConfigOptions } from './config.js';
import { pullEndpoints, pushEndpoint } from './endpoints.js';
import { isInsecure } from './insecure.js';

interface Sandbox {
  dir: string;
  /** Options that read only files under `dir` (HOME is dir/home, / is dir). */
  opts: LoadConfigOptions & { env: NodeJS.ProcessEnv };
  write(path: string, text: string): Promise<string>;
}

async function sandbox(t: { teardown(fn: () => Promise<void>): void }): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-regconf-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const write = async (path: string, text: string) => {
    const file = join(dir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
    return file;
  };
  return { dir, opts: { env: { HOME: join(dir, 'home') }, systemRoot: dir, systemFile: join(dir, 'etc/tsbuild/config.json') }, write };
}

const hosts = async (opts: LoadConfigOptions, registry = 'docker.io') => (await pullEndpoints(await loadRegistryConfig(opts), registry)).map((e) => `${e.scheme}://${e.host}${e.namespace ? `/${e.namespace}` : ''}`);

test('nothing configured anywhere: an empty config', async (t) => {
  const s = await sandbox(t);
  t.deepEqual(await loadRegistryConfig(s.opts), { mirrors: {}, insecure: [] });
});

test('precedence: flags, tsbuild file, registries.conf, daemon.json; each mirror once, the first entry winning', async (t) => {
  const s = await sandbox(t);
  await s.write('etc/tsbuild/config.json', JSON.stringify({ mirrors: { 'index.docker.io': ['dup.mirror:5000', 'file.mirror'] }, insecure: ['file.mirror'] }));
  await s.write(
    'etc/containers/registries.conf',
    '[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "conf.mirror"\n[[registry.mirror]]\nlocation = "dup.mirror:5000"\ninsecure = true\n[[registry.mirror]]\nlocation = "harbor.lan/dockerhub"\n',
  );
  await s.write('etc/docker/daemon.json', JSON.stringify({ 'registry-mirrors': ['https://daemon.mirror/', 'https://file.mirror', 'https://conf.mirror'], 'insecure-registries': ['http://reg.lan:5000', '10.1.0.0/16'] }));
  const opts = { ...s.opts, mirrors: ['flag.mirror', 'dup.mirror:5000'], insecure: ['flag.lan'] };
  t.deepEqual(await hosts(opts), [
    'https://flag.mirror',
    'http://dup.mirror:5000',
    'http://file.mirror',
    'https://conf.mirror',
    'https://harbor.lan/dockerhub',
    'https://daemon.mirror',
    'https://registry-1.docker.io',
  ]);
  const config = await loadRegistryConfig(opts);
  t.deepEqual(config.insecure, ['flag.lan', 'file.mirror', 'dup.mirror:5000', 'reg.lan:5000', '10.1.0.0/16']);
  t.is(config.warnings, undefined, 'nothing here goes unapplied');
  t.is((await pushEndpoint(config, '10.1.2.3:5000')).scheme, 'http', 'a CIDR from daemon.json');
  t.is((await pushEndpoint(config, '10.2.0.1')).scheme, 'https');
});

test('tsbuild file: XDG file, then the machine-wide one; errors name the file', async (t) => {
  const s = await sandbox(t);
  await s.write('etc/tsbuild/config.json', '{"insecure": ["system:1"]}');
  t.deepEqual((await loadRegistryConfig(s.opts)).insecure, ['system:1'], 'the machine-wide file when the user has none');
  await s.write('home/.config/tsbuild/config.json', '{"insecure": ["a:1"]}');
  t.deepEqual((await loadRegistryConfig(s.opts)).insecure, ['a:1'], "the user's file wins");
  await t.throwsAsync(loadRegistryConfig({ ...s.opts, env: { ...s.opts.env, TSBUILD_CONFIG: join(s.dir, 'nope.json') } }), { code: 'TSBUILD_CONFIG_INVALID', message: /nope\.json/ });
  const bad = await s.write('bad.json', '{"mirrors": {"docker.io": ["ftp://x/y/z"]}}');
  await t.throwsAsync(loadRegistryConfig({ ...s.opts, file: bad }), { code: 'TSBUILD_CONFIG_INVALID', message: /bad\.json.*ftp/ });
  const bad2 = await s.write('bad2.json', '{"insecure": "x"}');
  await t.throwsAsync(loadRegistryConfig({ ...s.opts, file: bad2 }), { code: 'TSBUILD_CONFIG_INVALID', message: /bad2\.json/ });
  await t.throwsAsync(loadRegistryConfig({ ...s.opts, mirrors: ['ftp://m'] }), { code: 'TSBUILD_CONFIG_INVALID', message: /--registry-mirror/ });
  await t.throwsAsync(loadRegistryConfig({ ...s.opts, insecure: ['a b'] }), { code: 'TSBUILD_CONFIG_INVALID', message: /--insecure-registry/ });
});

test('registries.conf: system file and drop-ins in lexical order, a later prefix replacing an earlier one; user dir after system dir', async (t) => {
  const s = await sandbox(t);
  await s.write('etc/containers/registries.conf', '[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "main.mirror"\n');
  await s.write('etc/containers/registries.conf.d/20-b.conf', '[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "b.mirror"\n');
  await s.write('etc/containers/registries.conf.d/10-a.conf', '[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "a.mirror"\n');
  await s.write('etc/containers/registries.conf.d/30-c.conf.disabled', 'not toml at all [');
  await s.write('etc/containers/registries.conf.d/sub.conf/x.conf', 'not toml at all [');
  t.deepEqual(await hosts(s.opts), ['https://b.mirror', 'https://registry-1.docker.io'], '20-b.conf comes last and replaces the docker.io entry');
  await s.write('home/.config/containers/registries.conf.d/05-user.conf', '[[registry]]\nprefix = "docker.io"\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "user.mirror"\n');
  t.deepEqual(await hosts(s.opts), ['https://user.mirror', 'https://registry-1.docker.io'], "the user's drop-ins come after the system's");
  t.deepEqual(await hosts({ ...s.opts, env: { ...s.opts.env, TSBUILD_REGISTRIES_CONF_D: '' } }), ['https://main.mirror', 'https://registry-1.docker.io'], 'TSBUILD_REGISTRIES_CONF_D= reads no drop-ins');
});

test("registries.conf: the user's file replaces the system file and its drop-ins; CONTAINERS_REGISTRIES_CONF replaces both and must exist", async (t) => {
  const s = await sandbox(t);
  await s.write('etc/containers/registries.conf', '[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "system.mirror"\n');
  await s.write('etc/containers/registries.conf.d/50.conf', '[[registry]]\nlocation = "quay.io"\n[[registry.mirror]]\nlocation = "quay.mirror"\n');
  await s.write('home/.config/containers/registries.conf', '[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "user.mirror"\n');
  t.deepEqual(await hosts(s.opts), ['https://user.mirror', 'https://registry-1.docker.io']);
  t.deepEqual(await hosts(s.opts, 'quay.io'), ['https://quay.io'], 'no system drop-ins with the user file');
  const env = await s.write('env.conf', '[[registry]]\nlocation = "docker.io"\n[[registry.mirror]]\nlocation = "env.mirror"\n');
  const withEnv = { ...s.opts, env: { ...s.opts.env, CONTAINERS_REGISTRIES_CONF: env } };
  t.deepEqual(await hosts(withEnv), ['https://env.mirror', 'https://registry-1.docker.io']);
  t.deepEqual(await hosts(withEnv, 'quay.io'), ['https://quay.mirror', 'https://quay.io'], 'drop-ins are still read, as containers/image does');
  await t.throwsAsync(loadRegistryConfig({ ...s.opts, env: { ...s.opts.env, CONTAINERS_REGISTRIES_CONF: join(s.dir, 'missing.conf') } }), { code: 'TSBUILD_CONFIG_INVALID', message: /missing\.conf/ });
});

test('registries.conf: a malformed drop-in is an error naming the file and line', async (t) => {
  const s = await sandbox(t);
  await s.write('etc/containers/registries.conf.d/10-bad.conf', '[[registry]]\nlocation = "docker.io"\ninsecure = yes\n');
  const err = await t.throwsAsync(loadRegistryConfig(s.opts), { code: 'TSBUILD_CONFIG_INVALID' });
  t.true(err!.message.startsWith(`${join(s.dir, 'etc/containers/registries.conf.d/10-bad.conf')}:3: not valid TOML`), err!.message);
});

test('daemon.json: mirrors need a scheme, a mirror with a path is skipped with a warning, an empty file is empty, errors name the file', async (t) => {
  const s = await sandbox(t);
  await s.write('etc/docker/daemon.json', '');
  t.deepEqual(await loadRegistryConfig(s.opts), { mirrors: {}, insecure: [] });
  await s.write('etc/docker/daemon.json', JSON.stringify({ 'registry-mirrors': ['https://ok.mirror', 'https://harbor.lan/v2-proxy'], 'log-level': 'debug' }));
  const config = await loadRegistryConfig(s.opts);
  t.deepEqual(config.mirrors, { 'docker.io': ['https://ok.mirror'] });
  t.is(config.warnings?.length, 1);
  t.regex(config.warnings![0]!, /daemon\.json: registry mirror https:\/\/harbor\.lan\/v2-proxy has a path/);
  await s.write('etc/docker/daemon.json', '{"registry-mirrors": ["mirror.lan:5000"]}');
  await t.throwsAsync(loadRegistryConfig(s.opts), { code: 'TSBUILD_CONFIG_INVALID', message: /daemon\.json: invalid registry mirror "mirror\.lan:5000"/ });
  await s.write('etc/docker/daemon.json', '{"insecure-registries": ["ftp://x"]}');
  await t.throwsAsync(loadRegistryConfig(s.opts), { code: 'TSBUILD_CONFIG_INVALID', message: /daemon\.json: insecure registry "ftp:\/\/x"/ });
  await s.write('etc/docker/daemon.json', '{\n  "registry-mirrors": [\n    "https://a",\n  ]\n}\n');
  await t.throwsAsync(loadRegistryConfig(s.opts), { code: 'TSBUILD_CONFIG_INVALID', message: /daemon\.json(:4)?: not valid JSON: [^\n]*$/ });
  t.deepEqual(await loadRegistryConfig({ ...s.opts, env: { ...s.opts.env, TSBUILD_DOCKER_DAEMON_JSON: '' } }), { mirrors: {}, insecure: [] }, 'an empty TSBUILD_DOCKER_DAEMON_JSON reads none');
  await t.throwsAsync(loadRegistryConfig({ ...s.opts, env: { ...s.opts.env, TSBUILD_DOCKER_DAEMON_JSON: join(s.dir, 'none.json') } }), { code: 'TSBUILD_CONFIG_INVALID', message: /none\.json/ });
});

test('insecure CIDRs match IP literals and resolved names; a name that does not resolve matches none', async (t) => {
  const insecure = ['10.0.0.0/8', 'fd00::/8', 'named.lan'];
  const lookup = async (name: string) => {
    if (name === 'inside.lan') return ['10.9.8.7'];
    if (name === 'outside.lan') return ['192.0.2.1'];
    throw new Error('ENOTFOUND');
  };
  t.true(await isInsecure(insecure, '10.1.2.3:5000', { lookup }));
  t.true(await isInsecure(insecure, '[fd00::5]:5000', { lookup }));
  t.true(await isInsecure(insecure, 'inside.lan:443', { lookup }));
  t.true(await isInsecure(insecure, 'named.lan:5000', { lookup }), 'a host without port matches every port');
  t.false(await isInsecure(insecure, 'outside.lan', { lookup }));
  t.false(await isInsecure(insecure, 'unknown.lan', { lookup }));
  t.false(await isInsecure(insecure, '11.0.0.1', { lookup }));
  t.false(await isInsecure(['reg.lan:5000'], 'reg.lan:5001'));
});
