/** A malformed cache record reads as a miss, never as an error halfway through a build. */
import test from 'ava';
import { MediaType } from '@tsbuild/layerstore';
import { isPositionRecord, isStepRecord } from './cache-records.js';

const digest = (c: string): string => `sha256:${c.repeat(64)}`;
const step = {
  created: '2024-01-01T00:00:00Z',
  diffId: digest('a'),
  descriptor: { mediaType: MediaType.ociLayerGzip, digest: digest('b'), size: 10 },
  createdBy: 'RUN x',
  inputs: { run: 'x' },
  holds: { blobs: [digest('a'), digest('b')], snapshots: [digest('c')] },
};

test('a step record as cache.ts writes it is accepted; any member of the wrong shape is not', (t) => {
  t.true(isStepRecord(step));
  const broken: Record<string, unknown>[] = [
    { ...step, descriptor: null },
    { ...step, descriptor: { ...step.descriptor, digest: 'sha256:../x' } },
    { ...step, diffId: 7 },
    { ...step, created: null },
    { ...step, createdBy: ['RUN'] },
    { ...step, inputs: 'x' },
    { ...step, holds: { blobs: 'x' } },
    {},
  ];
  for (const rec of broken) t.false(isStepRecord(rec), JSON.stringify(rec));
});

test('a position record needs a key digest and inputs', (t) => {
  t.true(isPositionRecord({ key: digest('d'), inputs: {} }));
  t.false(isPositionRecord({ key: digest('d'), inputs: null }));
  t.false(isPositionRecord({ key: 'x', inputs: {} }));
});
