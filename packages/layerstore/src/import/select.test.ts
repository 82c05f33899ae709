import test from 'ava';
import { LayerstoreError } from '../errors.js';
import { MediaType } from '../image/media-types.js';
import { REF_NAME_ANNOTATION, type Descriptor, type Index } from '../image/types.js';
import { selectEntry } from './select.js';

function entry(n: number, refName?: string): Descriptor {
  return {
    mediaType: MediaType.ociManifest,
    digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
    size: n,
    ...(refName !== undefined ? { annotations: { [REF_NAME_ANNOTATION]: refName } } : {}),
  };
}

const index: Index = { schemaVersion: 2, manifests: [entry(1, 'myname:1.0'), entry(2, 'localhost:5000/app:2'), entry(3)] };

test('by name, as written or normalised', (t) => {
  t.is(selectEntry(index, 'x', 'myname:1.0').size, 1);
  t.is(selectEntry(index, 'x', 'docker.io/library/myname:1.0').size, 1);
  t.is(selectEntry(index, 'x', 'localhost:5000/app:2').size, 2);
});

test('by position: @N counts from 0 (containers/image)', (t) => {
  t.is(selectEntry(index, 'x', '@0').size, 1);
  t.is(selectEntry(index, 'x', '@2').size, 3);
  const err = t.throws(() => selectEntry(index, 'archive a.tar', '@3'), { instanceOf: LayerstoreError });
  t.is(err?.code, 'TSBUILD_IMAGE_NOT_FOUND');
  t.regex(err!.message, /archive a\.tar has no image @3 \(it holds 3\)/);
});

test('several images and no name: an error listing the names', (t) => {
  t.throws(() => selectEntry(index, 'x'), { message: /holds 3 images; name one \(myname:1\.0, localhost:5000\/app:2\)/ });
  t.is(selectEntry({ schemaVersion: 2, manifests: [entry(7)] }, 'x').size, 7);
});
