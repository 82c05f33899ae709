import test from 'ava';
import { familiarString, formatReference, parseReference, parseTag } from './reference.js';
import { LayerstoreError } from './errors.js';

const normalised: Array<[string, string, string]> = [
  ['busybox', 'docker.io/library/busybox', 'busybox'],
  ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
  ['library/busybox', 'docker.io/library/busybox', 'busybox'],
  ['docker.io/busybox:latest', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['index.docker.io/library/busybox', 'docker.io/library/busybox', 'busybox'],
  ['user/app', 'docker.io/user/app', 'user/app'],
  ['localhost/app', 'localhost/app', 'localhost/app'],
  ['localhost:5000/ns/repo:v1', 'localhost:5000/ns/repo:v1', 'localhost:5000/ns/repo:v1'],
  ['127.0.0.1:5000/app', '127.0.0.1:5000/app', '127.0.0.1:5000/app'],
  ['[::1]:5000/app:x', '[::1]:5000/app:x', '[::1]:5000/app:x'],
  ['Registry.Example.com/a/b', 'Registry.Example.com/a/b', 'Registry.Example.com/a/b'],
  ['a__b/c.d-e---f', 'docker.io/a__b/c.d-e---f', 'a__b/c.d-e---f'],
  [`host:5000/ns/repo@sha256:${'a'.repeat(64)}`, `host:5000/ns/repo@sha256:${'a'.repeat(64)}`, `host:5000/ns/repo@sha256:${'a'.repeat(64)}`],
  [`app:1@sha256:${'b'.repeat(64)}`, `docker.io/library/app:1@sha256:${'b'.repeat(64)}`, `app:1@sha256:${'b'.repeat(64)}`],
];

for (const [input, full, familiar] of normalised) {
  test(`normalises ${input}`, (t) => {
    const ref = parseReference(input);
    t.is(formatReference(ref), full);
    t.is(familiarString(ref), familiar);
  });
}

const invalid: Array<[string, RegExp]> = [
  ['', /empty/],
  ['Busybox', /lowercase/],
  ['app:', /invalid tag/],
  ['app:-x', /invalid tag/],
  ['app@sha256:abc', /digest/],
  [`app@md5:${'a'.repeat(32)}`, /digest/],
  ['a//b', /component/],
  ['-app', /component/],
  ['app_', /component/],
  ['host:5000/', /missing repository/],
  [`${'a'.repeat(256)}`, /longer than 255/],
  ['app:' + 'x'.repeat(129), /invalid tag/],
];

for (const [input, message] of invalid) {
  test(`rejects ${JSON.stringify(input.slice(0, 40))}`, (t) => {
    const err = t.throws(() => parseReference(input), { instanceOf: LayerstoreError });
    t.is(err?.code, 'TSBUILD_REFERENCE_INVALID');
    t.regex(err?.message ?? '', message);
  });
}

test('parseTag adds latest and refuses digests', (t) => {
  t.is(familiarString(parseTag('app')), 'app:latest');
  t.throws(() => parseTag(`app@sha256:${'c'.repeat(64)}`), { message: /cannot contain a digest/ });
});
