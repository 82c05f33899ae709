/**
 * History times as BuildKit writes them: one time for everything a build adds (the
 * image's `created` too), the base's history untouched, and an unchanged rebuild the
 * same image. Builds run with the recording executor (no sandbox, no root).
 */
import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingExecutor } from '@tsbuild/executor/testing';
import { Store, type HistoryEntry, type ImageConfig } from '@tsbuild/layerstore';
import { build } from './build.js';
import { BuildClock, epochTime, stampHistory } from './build-time.js';

const BASE_HISTORY: HistoryEntry[] = [
  { created: '2020-01-01T00:00:00Z', created_by: 'base step 1' },
  { created: '2020-02-02T00:00:00Z', created_by: 'base step 2', empty_layer: true },
];

/** A store holding `base:1`, an image of no layers with a dated history; and a context. */
async function setup(t: { teardown(fn: () => Promise<void>): void }): Promise<{ dir: string; store: Store }> {
  const dir = await mkdtemp(join(tmpdir(), 'builder-time-'));
  const store = await Store.open(join(dir, 'store'));
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const base = await store.putImage({ architecture: 'amd64', os: 'linux', created: '2020-02-02T00:00:00Z', rootfs: { type: 'layers', diff_ids: [] }, history: BASE_HISTORY }, []);
  await store.tag(base, 'base:1');
  await writeFile(join(dir, 'file.txt'), 'content\n');
  return { dir, store };
}

async function buildWith(dir: string, store: Store, dockerfile: string, opts: { noCache?: boolean; sourceDateEpoch?: number } = {}) {
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  const started = new Date().toISOString();
  const res = await build({ store, contextDir: dir, executor: new RecordingExecutor(), ...opts });
  return { image: res.image, started };
}

const LAYERED = 'FROM base:1\nENV A=1\nRUN echo one\nLABEL l=1\nCOPY file.txt /file.txt\nWORKDIR /app\nCMD ["sh"]\n';

function added(config: ImageConfig): HistoryEntry[] {
  return (config.history ?? []).slice(BASE_HISTORY.length);
}

test('every history entry the build adds has the build\'s time, which is the image\'s created; the base keeps its times', async (t) => {
  const { dir, store } = await setup(t);
  const { image, started } = await buildWith(dir, store, LAYERED);
  const config = image.config;
  t.deepEqual(config.history!.slice(0, 2), BASE_HISTORY);
  const entries = added(config);
  t.is(entries.length, 6);
  t.deepEqual([...new Set(entries.map((h) => h.created))], [config.created], 'one time, the image\'s');
  t.true(config.created! >= started, `${config.created} is this build's time, not the base's (${started})`);
});

test('an unchanged rebuild is the same image; a changed config step keeps the cached time; --no-cache takes a new one', async (t) => {
  const { dir, store } = await setup(t);
  const first = await buildWith(dir, store, LAYERED);
  const again = await buildWith(dir, store, LAYERED);
  t.is(again.image.id, first.image.id);
  const relabelled = await buildWith(dir, store, LAYERED.replace('l=1', 'l=2'));
  t.not(relabelled.image.id, first.image.id);
  t.is(relabelled.image.config.created, first.image.config.created, 'every layer step came from the cache: the time of the build that made them');
  t.deepEqual([...new Set(added(relabelled.image.config).map((h) => h.created))], [first.image.config.created]);
  const fresh = await buildWith(dir, store, LAYERED, { noCache: true });
  t.true(fresh.image.config.created! >= fresh.started, 'steps that ran: this build\'s time');
  t.deepEqual([...new Set(added(fresh.image.config).map((h) => h.created))], [fresh.image.config.created]);
});

test('a build that adds no layer takes the base image\'s newest history time (as BuildKit), so it is stable too', async (t) => {
  const { dir, store } = await setup(t);
  const only = 'FROM base:1\nENV A=1\nLABEL l=1\n';
  const { image } = await buildWith(dir, store, only);
  t.is(image.config.created, '2020-02-02T00:00:00Z');
  t.deepEqual(added(image.config).map((h) => h.created), ['2020-02-02T00:00:00Z', '2020-02-02T00:00:00Z']);
  t.is((await buildWith(dir, store, only)).image.id, image.id);
});

test('SOURCE_DATE_EPOCH: everything the build adds takes it; the base history is left as it is', async (t) => {
  const { dir, store } = await setup(t);
  const { image } = await buildWith(dir, store, LAYERED, { sourceDateEpoch: 1_700_000_000 });
  t.is(image.config.created, '2023-11-14T22:13:20Z');
  t.deepEqual(image.config.history!.slice(0, 2), BASE_HISTORY);
  t.deepEqual([...new Set(added(image.config).map((h) => h.created))], ['2023-11-14T22:13:20Z']);
});

test('BuildClock picks the time from what ran and what was cached', (t) => {
  const base: ImageConfig = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, created: '2019-01-01T00:00:00Z', history: BASE_HISTORY };
  const now = new Date('2024-05-05T05:05:05.555Z');
  const cached = new BuildClock(undefined, now);
  cached.cached('2022-01-01T00:00:00.000Z');
  cached.cached('2023-01-01T00:00:00.000Z');
  cached.cached('2021-01-01T00:00:00.000Z');
  t.is(cached.time(base), '2023-01-01T00:00:00.000Z', 'the newest cached step');
  t.is(cached.made(), '2024-05-05T05:05:05.555Z');
  t.is(cached.time(base), '2024-05-05T05:05:05.555Z', 'one step ran: the build\'s start');
  t.is(new BuildClock(undefined, now).time(base), '2020-02-02T00:00:00Z', 'no layer step: the base\'s newest history time');
  t.is(new BuildClock(undefined, now).time({ ...base, history: [] }), '2019-01-01T00:00:00Z');
  t.is(new BuildClock(undefined, now).time({ ...base, history: [], created: undefined }), now.toISOString(), 'scratch: the start');
  const sde = new BuildClock(1_700_000_000, now);
  sde.cached('2030-01-01T00:00:00Z');
  t.is(sde.time(base), epochTime(1_700_000_000));
});

test('stampHistory fills only the entries without a time', (t) => {
  const config: ImageConfig = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, history: [...BASE_HISTORY, { created_by: 'ENV A=1', empty_layer: true }] };
  const out = stampHistory(config, '2024-01-01T00:00:00Z');
  t.deepEqual(out.history, [...BASE_HISTORY, { created_by: 'ENV A=1', empty_layer: true, created: '2024-01-01T00:00:00Z' }]);
  t.is(out.created, '2024-01-01T00:00:00Z');
  t.is(config.history![2]!.created, undefined, 'the input is not changed');
});
