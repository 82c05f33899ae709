/**
 * Documents read from outside are checked once, where they are read: the shapes that
 * ended in `TypeError: Cannot read properties of null`, then seeded random documents
 * (valid ones with a member replaced by something else) through every reader, whose
 * accepted results are then used the way the importers use them.
 */
import test from 'ava';
import { prng } from '../testing/prng.js';
import { LayerstoreError } from '../errors.js';
import { selectEntry, selectPlatform } from '../import/select.js';
import { parseManifest } from '../registry/manifest.js';
import { MAX_JSON_DEPTH, parseJson } from './json.js';
import { MediaType } from './media-types.js';
import { asImageConfig } from './validate-config.js';
import { asDescriptor, asIndex, asManifest, badDocument } from './validate.js';

const digest = (c: string): string => `sha256:${c.repeat(64)}`;
const descriptor = (c = 'a', extra: object = {}) => ({ mediaType: MediaType.ociManifest, digest: digest(c), size: 10, ...extra });
const index = (manifests: unknown) => ({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests });
const manifest = (extra: object = {}) => ({
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: { mediaType: MediaType.ociConfig, digest: digest('c'), size: 2 },
  layers: [{ mediaType: MediaType.ociLayerGzip, digest: digest('d'), size: 3 }],
  ...extra,
});
const config = (extra: object = {}) => ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digest('e')] }, ...extra });

const refused = (t: import('ava').ExecutionContext, fn: () => unknown, message: RegExp): void => {
  const err = t.throws(fn, { instanceOf: LayerstoreError }, String(message));
  t.is(err?.code, 'TSBUILD_MANIFEST_INVALID');
  t.regex(err?.message ?? '', message);
};

test('an index of null, or with "manifests": [null], is a typed error naming the document', (t) => {
  refused(t, () => asIndex(JSON.parse('null'), 'x/index.json'), /^x\/index\.json: not a JSON object$/);
  refused(t, () => asIndex(index([null]), 'x/index.json'), /^x\/index\.json: manifests\[0\] is not a descriptor$/);
  refused(t, () => asIndex({ schemaVersion: 2 }, 'i'), /"manifests" is not a list/);
  refused(t, () => asIndex({ manifests: [] }, 'i'), /schemaVersion missing, want 2/);
  refused(t, () => asIndex(index([descriptor('a', { platform: null }), descriptor('b', { platform: { os: 'linux' } })]), 'i'), /manifests\[1\]\.platform\.architecture is not a string/);
  refused(t, () => asIndex(index([descriptor('a', { annotations: { k: 1 } })]), 'i'), /manifests\[0\]\.annotations\["k"\] is not a string/);
  refused(t, () => asIndex(index([descriptor('a', { size: -1 })]), 'i'), /invalid size -1/);
  refused(t, () => asIndex(index([descriptor('a', { digest: 'sha256:../../etc' })]), 'i'), /invalid digest/);
  refused(t, () => asIndex(index([descriptor('a', { mediaType: 7 })]), 'i'), /has no mediaType/);
  const ok = asIndex(index([descriptor('a', { annotations: null, platform: { architecture: 'amd64', os: 'linux', 'os.features': ['x'] } })]), 'i');
  t.is(ok.manifests.length, 1);
});

test('manifests: config and layers are descriptors', (t) => {
  t.is(asManifest(manifest(), 'm').layers.length, 1);
  refused(t, () => asManifest(manifest({ config: null }), 'm'), /no "config"/);
  refused(t, () => asManifest(manifest({ layers: [null] }), 'm'), /layers\[0\] is not a descriptor/);
  refused(t, () => asManifest(manifest({ layers: {} }), 'm'), /"layers" is not a list/);
  refused(t, () => asManifest(manifest({ schemaVersion: 1 }), 'm'), /schemaVersion 1, want 2/);
  refused(t, () => asManifest(manifest({ subject: 'x' }), 'm'), /subject is not a descriptor/);
  refused(t, () => asManifest([], 'm'), /not a JSON object/);
});

test('image configs: the members the builder reads have the types Go would insist on', (t) => {
  t.truthy(asImageConfig(config({ config: { Env: null, Cmd: ['a'], Labels: { a: 'b' }, ExposedPorts: { '80/tcp': {} } } }), 'c'));
  t.truthy(asImageConfig(config({ config: null, history: [{ created_by: 'x', empty_layer: true }] }), 'c'));
  refused(t, () => asImageConfig(null, 'c'), /not a JSON object/);
  refused(t, () => asImageConfig(config({ os: undefined }), 'c'), /no os\/architecture/);
  refused(t, () => asImageConfig(config({ rootfs: null }), 'c'), /rootfs\.diff_ids/);
  refused(t, () => asImageConfig(config({ config: { Env: 'A=b' } }), 'c'), /config\.Env is not a list of strings/);
  refused(t, () => asImageConfig(config({ config: { Cmd: [1] } }), 'c'), /config\.Cmd\[0\] is not a string/);
  refused(t, () => asImageConfig(config({ config: { Labels: { a: null } } }), 'c'), /config\.Labels\["a"\] is not a string/);
  refused(t, () => asImageConfig(config({ config: { ExposedPorts: { '80/tcp': 1 } } }), 'c'), /ExposedPorts\["80\/tcp"\] is not an object/);
  refused(t, () => asImageConfig(config({ config: { Healthcheck: { Interval: '1s' } } }), 'c'), /Healthcheck\.Interval is not a number/);
  refused(t, () => asImageConfig(config({ history: [null] }), 'c'), /history\[0\] is not an object/);
  refused(t, () => asImageConfig(config({ history: [{ empty_layer: 'yes' }] }), 'c'), /history\[0\]\.empty_layer is not a boolean/);
});

test('JSON nested deeper than JSON.stringify can write back is refused, quickly', (t) => {
  const deep = (n: number) => `{"schemaVersion":2,"x":${'['.repeat(n)}${']'.repeat(n)}}`;
  t.notThrows(() => parseJson(deep(MAX_JSON_DEPTH - 1), 'd'));
  refused(t, () => parseJson(deep(100_000), 'd'), /^d: JSON nested more than 256 deep$/);
  t.notThrows(() => parseJson(`{"a":"${'['.repeat(10_000)}"}`, 'd'), 'brackets inside strings do not count');
  t.notThrows(() => parseJson(`{"a":"\\"${'['.repeat(10_000)}"}`, 'd'), 'nor after an escaped quote');
  refused(t, () => parseJson('{', 'd'), /^d is not valid JSON/);
});

/** Replaces one randomly chosen member (at any depth) of a copy of `doc` with `value`. */
function mutate(doc: unknown, rand: (n: number) => number, value: unknown): unknown {
  const copy = structuredClone(doc);
  const slots: Array<[Record<string, unknown> | unknown[], string | number]> = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach((x, i) => (slots.push([v, i]), walk(x)));
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        slots.push([v as Record<string, unknown>, k]);
        walk(x);
      }
    }
  };
  walk(copy);
  if (slots.length === 0 || rand(10) === 0) return value;
  const [parent, key] = slots[rand(slots.length)]!;
  if (value === undefined && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string];
  else (parent as Record<string | number, unknown>)[key] = value;
  return copy;
}

test('random documents: every reader gives a usable result or a LayerstoreError', (t) => {
  const rand = prng(1190);
  const odd = [null, undefined, 0, -1, 1.5, 2 ** 53, '', 'x', digest('f'), 'sha256:XYZ', true, [], [null], {}, { a: 1 }, [digest('a')], MediaType.ociIndex];
  const platformed = index([descriptor('a', { platform: { architecture: 'amd64', os: 'linux' }, annotations: { 'org.opencontainers.image.ref.name': 'app:1' } }), descriptor('b', { mediaType: MediaType.ociIndex })]);
  const templates: Array<[string, unknown, (v: unknown) => unknown]> = [
    ['index', platformed, (v) => {
      const i = asIndex(v, 'i');
      for (const name of [undefined, 'app:1', 'nope']) {
        try {
          selectEntry(i, 'i', name);
        } catch (err) {
          if (!(err instanceof LayerstoreError)) throw err;
        }
      }
      try {
        return selectPlatform(i, { architecture: 'amd64', os: 'linux' }, 'i').digest.slice(7);
      } catch (err) {
        if (!(err instanceof LayerstoreError)) throw err;
        return undefined;
      }
    }],
    ['manifest', manifest(), (v) => asManifest(v, 'm').layers.map((l) => l.digest.slice(7) + l.size)],
    ['config', config({ config: { Env: ['A=b'], Cmd: ['sh'], Labels: { a: 'b' } }, history: [{ created_by: 'x' }] }), (v) => {
      const c = asImageConfig(v, 'c');
      return [...(c.config?.Env ?? []), ...(c.history ?? []).map((h) => h.created_by ?? ''), ...c.rootfs.diff_ids.map((d) => d.slice(7))].join();
    }],
    ['registry manifest', manifest(), (v) => parseManifest(Buffer.from(JSON.stringify(v) ?? 'undefined'), undefined, 'r').descriptor.digest],
    ['registry index', platformed, (v) => parseManifest(Buffer.from(JSON.stringify(v) ?? 'undefined'), MediaType.ociIndex, 'r').index?.manifests.length],
  ];
  const outcomes = new Map<string, Set<string>>();
  for (let i = 0; i < 3000; i++) {
    const [name, template, read] = templates[i % templates.length]!;
    let doc = template;
    for (let n = 1 + rand(3); n > 0; n--) doc = mutate(doc, rand, odd[rand(odd.length)]);
    const seen = outcomes.get(name) ?? new Set();
    outcomes.set(name, seen);
    try {
      read(doc);
      seen.add('ok');
    } catch (err) {
      if (!(err instanceof LayerstoreError)) throw err;
      seen.add(err.code);
    }
  }
  for (const [name, seen] of outcomes) t.true(seen.has('ok') && seen.has('TSBUILD_MANIFEST_INVALID'), `${name}: ${[...seen].join(', ')}`);
});

test('random text through parseJson: a value or a LayerstoreError', (t) => {
  const rand = prng(7);
  const parts = ['{', '}', '[', ']', '"', '\\', ':', ',', 'null', '1', '"a"', ' ', 'true', '\u2028', '\uD800'];
  for (let i = 0; i < 3000; i++) {
    let text = '';
    for (let n = rand(30); n > 0; n--) text += parts[rand(parts.length)];
    try {
      parseJson(text, 'r');
    } catch (err) {
      if (!(err instanceof LayerstoreError)) throw err;
    }
  }
  t.pass();
});

test('asDescriptor alone: what the store and the importers rely on', (t) => {
  const bad = badDocument('doc');
  t.is(asDescriptor(descriptor(), 'd', bad).size, 10);
  refused(t, () => asDescriptor(descriptor('a', { urls: [1] }), 'd', bad), /^doc: d has invalid urls$/);
});
