/**
 * Registry faults in what a registry claims: manifests that do not match or are too big,
 * redirects to other hosts, configs whose diff_ids lie, confused media types, a lying
 * Docker-Content-Digest, foreign layer URLs, mirrors. Each must end in a clear, typed error
 * with nothing half-stored. Transport faults are in faults.test.ts.
 */
import test from 'ava';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sha256, type Digest } from '../digest.js';
import { imageAs } from '../export/image-as.js';
import { MediaType } from '../image/media-types.js';
import type { Manifest } from '../image/types.js';
import { parseReference } from '../reference.js';
import type { RegistryError } from './errors.js';
import { AMD64, blobsIn, makeImage, tagsIn } from './testing/fixtures.js';
import { send } from './testing/proxy.js';
import { freePort, TEST_USER } from './testing/registry-server.js';
import { faultHarness, isBlob, nothingStored } from './testing/fault-harness.js';

const h = faultHarness(test);

test('a manifest that does not match the digest asked for is refused', async (t) => {
  const { store, client } = await h.setup(t);
  const other = await send({ host: '127.0.0.1', port: h.registry.port }, 'GET', `/v2/f/big/manifests/${h.big.digest}`, { accept: MediaType.ociManifest }, Buffer.alloc(0));
  const p = await h.proxy(t, async (x, res) => {
    if (!x.path.endsWith(`/manifests/${h.small.digest}`)) return false;
    res.writeHead(200, { 'content-type': MediaType.ociManifest, 'docker-content-digest': h.small.digest });
    res.end(x.method === 'HEAD' ? undefined : other.body);
    return true;
  });
  const err = await t.throwsAsync<RegistryError>(client.pull(store, parseReference(`${p.host}/f/small@${h.small.digest}`), { platform: AMD64 }));
  t.is(err?.code, 'TSBUILD_DIGEST_MISMATCH');
  t.regex(err!.message, new RegExp(`^pull ${p.host}/f/small@${h.small.digest}: .*manifest digest mismatch: asked for ${h.small.digest}, got ${h.big.digest}`));
  await nothingStored(t, store);
});

test('a 5 MiB manifest is refused while reading, with or without Content-Length (case 55)', async (t) => {
  for (const withLength of [true, false]) {
    const { store, client } = await h.setup(t);
    const huge = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, pad: 'x'.repeat(5 * 1024 * 1024) }));
    const p = await h.proxy(t, (x, res) => {
      if (!x.path.includes('/manifests/')) return false;
      res.writeHead(200, { 'content-type': MediaType.ociManifest, ...(withLength ? { 'content-length': String(huge.length) } : {}) });
      if (x.method === 'HEAD') res.end();
      else {
        res.on('error', () => {});
        res.end(huge);
      }
      return true;
    });
    const err = await t.throwsAsync<RegistryError>(client.pull(store, parseReference(`${p.host}/f/small:1`), { platform: AMD64 }));
    t.is(err?.code, 'TSBUILD_REGISTRY_TOO_LARGE');
    t.regex(err!.message, new RegExp(`^pull ${p.host}/f/small:1: manifest 1 from ${p.host} is .*bytes, more than the 4194304 allowed`));
    await nothingStored(t, store);
  }
});

test('a redirect to another host does not carry Authorization (case 58)', async (t) => {
  const layer = h.small.image.manifest.layers[0]!.digest;
  const seen: Array<string | undefined> = [];
  const cdn = createServer(async (req, res) => {
    seen.push(req.headers.authorization);
    const up = await send({ host: '127.0.0.1', port: h.registry.port }, 'GET', `/v2/f/small/blobs/${layer}`, {}, Buffer.alloc(0));
    res.writeHead(200, { 'content-length': String(up.body.length) });
    res.end(up.body);
  });
  await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => cdn.close(() => resolve())));
  const cdnPort = (cdn.address() as AddressInfo).port;
  const expected = `Basic ${Buffer.from(`${TEST_USER.username}:${TEST_USER.password}`).toString('base64')}`;
  // A registry that wants basic auth and keeps its blobs "on a CDN" at another host name.
  const p = await h.proxy(t, (x, res) => {
    if (x.req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' });
      res.end();
      return true;
    }
    if (x.method === 'GET' && isBlob(x.path, layer)) {
      res.writeHead(307, { location: `http://localhost:${cdnPort}/cdn/${layer}?sig=1` });
      res.end();
      return true;
    }
    return false;
  });
  const { store, client } = await h.setup(t, { credentials: () => TEST_USER });
  const pulled = await client.pull(store, parseReference(`${p.host}/f/small:1`), { platform: AMD64 });
  t.is(pulled.digest, h.small.digest);
  t.deepEqual(seen, [undefined], 'the CDN saw no credentials');
  t.true(p.log.filter((r) => r.method === 'GET' && isBlob(r.path, layer)).every((r) => r.headers.authorization === expected));
});

test('a redirect to the metadata address on another host is refused (case 61)', async (t) => {
  for (const target of ['http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/latest/']) {
    const { store, client } = await h.setup(t);
    const layer = h.small.image.manifest.layers[0]!.digest;
    const p = await h.proxy(t, (x, res) => {
      if (!isBlob(x.path, layer)) return false;
      res.writeHead(302, { location: target });
      res.end();
      return true;
    });
    const err = await t.throwsAsync<RegistryError>(client.pull(store, parseReference(`${p.host}/f/small:1`), { platform: AMD64 }));
    t.is(err?.code, 'TSBUILD_REGISTRY_UNSAFE');
    t.regex(err!.message, new RegExp(`^pull ${p.host}/f/small:1: refusing redirect from ${p.host} to .*SSRF`));
    await nothingStored(t, store);
  }
});

test('a config whose diff_ids do not match the layers: refused before commit, also for layers already stored (case 57)', async (t) => {
  const { store, client } = await h.setup(t);
  const image = await imageAs(store, await makeImage(store, { layers: 2 }), { compression: 'gzip' });
  const good = await client.push(store, image, parseReference(`${h.registry.host}/f/diffid:good`));
  const lie = await store.putImage({ ...image.config, rootfs: { type: 'layers', diff_ids: [image.config.rootfs.diff_ids[0]!, sha256('something else')] } }, image.manifest.layers);
  await client.push(store, lie, parseReference(`${h.registry.host}/f/diffid:bad`));

  const fresh = await h.setup(t);
  const err = await t.throwsAsync<RegistryError>(fresh.client.pull(fresh.store, parseReference(`${h.registry.host}/f/diffid:bad`), { platform: AMD64 }));
  t.is(err?.code, 'TSBUILD_DIGEST_MISMATCH');
  t.regex(err!.message, new RegExp(`^pull ${h.registry.host}/f/diffid:bad: layer 2/2 .*does not match the config's diff_id`));
  await nothingStored(t, fresh.store);

  // The layers are in the store (from the good image): still checked, and the good image is untouched.
  await fresh.client.pull(fresh.store, parseReference(`${h.registry.host}/f/diffid:good`), { platform: AMD64 });
  const before = await blobsIn(fresh.store);
  await t.throwsAsync(fresh.client.pull(fresh.store, parseReference(`${h.registry.host}/f/diffid:bad`), { platform: AMD64 }), { code: 'TSBUILD_DIGEST_MISMATCH' });
  t.deepEqual(await blobsIn(fresh.store), before);
  t.deepEqual(await tagsIn(fresh.store), [`${h.registry.host}/f/diffid:good`]);
  t.is((await fresh.store.resolveImage(`${h.registry.host}/f/diffid:good`)).manifestDescriptor.digest, good.digest);
});

test('media-type confusion: a config served as the manifest, and a Content-Type that contradicts the document', async (t) => {
  const cfg = h.small.image.manifest.config;
  const cfgBytes = (await send({ host: '127.0.0.1', port: h.registry.port }, 'GET', `/v2/f/small/blobs/${cfg.digest}`, {}, Buffer.alloc(0))).body;
  const manifestBytes = (await send({ host: '127.0.0.1', port: h.registry.port }, 'GET', `/v2/f/small/manifests/1`, { accept: MediaType.ociManifest }, Buffer.alloc(0))).body;
  const cases: Array<[Buffer, string, RegExp]> = [
    [cfgBytes, MediaType.ociConfig, /served as application\/vnd\.oci\.image\.config\.v1\+json, which is not a manifest/],
    [cfgBytes, 'application/json', /schemaVersion/],
    [manifestBytes, MediaType.dockerManifest, /Content-Type application\/vnd\.docker\.distribution\.manifest\.v2\+json does not match the document's mediaType application\/vnd\.oci\.image\.manifest\.v1\+json/],
  ];
  for (const [body, type, message] of cases) {
    const { store, client } = await h.setup(t);
    const p = await h.proxy(t, (x, res) => {
      if (!x.path.includes('/manifests/')) return false;
      res.writeHead(x.method === 'HEAD' ? 404 : 200, { 'content-type': type });
      res.end(x.method === 'HEAD' ? undefined : body);
      return true;
    });
    const err = await t.throwsAsync<RegistryError>(client.pull(store, parseReference(`${p.host}/f/small:1`), { platform: AMD64 }));
    t.is(err?.code, 'TSBUILD_MANIFEST_INVALID');
    t.regex(err!.message, message);
    await nothingStored(t, store);
  }
});

test('a lying Docker-Content-Digest on a tag is never recorded (case 64)', async (t) => {
  const { store, events, client } = await h.setup(t);
  const liar = `sha256:${'1'.repeat(64)}`;
  const p = await h.proxy(t, async (x, res) => {
    if (!x.path.includes('/manifests/')) return false;
    const up = await x.forward();
    res.writeHead(up.status, { ...up.headers, 'docker-content-digest': liar });
    res.end(x.method === 'HEAD' ? undefined : up.body);
    return true;
  });
  const pulled = await client.pull(store, parseReference(`${p.host}/f/small:1`), { platform: AMD64 });
  t.is(pulled.digest, h.small.digest);
  t.false((await blobsIn(store)).has(liar as Digest));
  t.true(events.some((e) => e.type === 'warning' && e.message.includes(liar)));
});

test('foreign layer URLs are not fetched (case 62); a byte too many is a size mismatch (case 67)', async (t) => {
  let hits = 0;
  const bait = createServer((_req, res) => {
    hits++;
    res.end('secret');
  });
  await new Promise<void>((resolve) => bait.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => bait.close(() => resolve())));
  const url = `http://127.0.0.1:${(bait.address() as AddressInfo).port}/creds`;
  {
    const { store, events, client } = await h.setup(t);
    const p = await h.proxy(t, async (x, res) => {
      if (!x.path.endsWith('/manifests/1')) return false;
      if (x.method === 'HEAD') {
        res.writeHead(404);
        res.end();
        return true;
      }
      const up = await x.forward();
      const m = JSON.parse(up.body.toString()) as Manifest;
      m.layers[0] = { ...m.layers[0]!, urls: [url] };
      const body = Buffer.from(JSON.stringify(m));
      res.writeHead(200, { 'content-type': MediaType.ociManifest, 'content-length': String(body.length) });
      res.end(body);
      return true;
    });
    const pulled = await client.pull(store, parseReference(`${p.host}/f/small:1`), { platform: AMD64 });
    t.deepEqual(pulled.image.manifest.layers[0]!.urls, [url]);
    t.is(hits, 0);
    t.true(events.some((e) => e.type === 'warning' && /foreign layer URLs are not fetched/.test(e.message)));
  }
  {
    const { store, client } = await h.setup(t);
    const layer = h.small.image.manifest.layers[0]!.digest;
    const p = await h.proxy(t, async (x, res) => {
      if (x.method !== 'GET' || !isBlob(x.path, layer)) return false;
      const up = await x.forward();
      const body = Buffer.concat([up.body, Buffer.from([0])]);
      res.writeHead(200, { 'content-length': String(body.length) });
      res.end(body);
      return true;
    });
    const err = await t.throwsAsync<RegistryError>(client.pull(store, parseReference(`${p.host}/f/small:1`), { platform: AMD64 }));
    t.is(err?.code, 'TSBUILD_SIZE_MISMATCH');
    await nothingStored(t, store);
  }
});

test('mirrors: docker.io names go to the mirror with library/ kept; a dead mirror falls back to the registry', async (t) => {
  {
    const p = await h.proxy(t, () => false);
    const { store, client } = await h.setup(t, { config: { mirrors: { 'docker.io': [p.host] } } });
    const pulled = await client.pull(store, parseReference('tsbtest:1'), { platform: AMD64 });
    t.is(pulled.digest, h.mirrored.digest);
    t.is(pulled.source, p.host);
    t.true(p.log.some((r) => r.path === '/v2/library/tsbtest/manifests/1'));
    t.deepEqual(await tagsIn(store), ['tsbtest:1']);
  }
  {
    const dead = `127.0.0.1:${await freePort()}`;
    const { store, events, client } = await h.setup(t, { config: { mirrors: { [h.registry.host]: [dead] } }, retry: { attempts: 2, baseDelayMs: 10 } });
    const pulled = await client.pull(store, parseReference(`${h.registry.host}/f/small:1`), { platform: AMD64 });
    t.is(pulled.source, h.registry.host);
    t.true(events.some((e) => e.type === 'fallback' && e.endpoint === dead));
  }
  {
    const dead = `127.0.0.1:${await freePort()}`;
    const deadToo = `127.0.0.1:${await freePort()}`;
    const { store, client } = await h.setup(t, { config: { mirrors: { [deadToo]: [dead] } }, retry: { attempts: 1 } });
    const err = await t.throwsAsync<RegistryError>(client.pull(store, parseReference(`${deadToo}/f/small:1`), { platform: AMD64 }));
    t.is(err?.code, 'TSBUILD_REGISTRY_UNAVAILABLE');
    t.is(err!.message, `pull ${deadToo}/f/small:1: manifest 1: cannot reach ${deadToo}: connect ECONNREFUSED (tried first: manifest 1: cannot reach mirror ${dead}: connect ECONNREFUSED)`, 'each endpoint named once');
    await nothingStored(t, store);
  }
});
