import test from 'ava';
import { LayerstoreError } from '../errors.js';
import { isLocalRef, parseLocalRef, type LocalRef } from './local-ref.js';

/** What exists on the pretend filesystem of the table. */
const FILES = new Set(['/tmp/x.tar', '/tmp/a:b.tar', '/data/odd:dir', '/tmp/plain', 'rel.tar']);
const exists = (p: string) => FILES.has(p);

const cases: Array<[string, LocalRef | undefined]> = [
  // a bare path
  ['oci-archive:/tmp/x.tar', { transport: 'oci-archive', path: '/tmp/x.tar' }],
  ['oci-archive:rel.tar', { transport: 'oci-archive', path: 'rel.tar' }],
  ['oci:/tmp/plain', { transport: 'oci', path: '/tmp/plain' }],
  ['oci-layout:///tmp/plain', { transport: 'oci', path: '/tmp/plain' }],
  ['docker-archive:/tmp/x.tar', { transport: 'docker-archive', path: '/tmp/x.tar' }],
  // buildah's default names: name:tag, and names with a registry port
  ['oci-archive:/tmp/x.tar:myname:1.0', { transport: 'oci-archive', path: '/tmp/x.tar', name: 'myname:1.0' }],
  ['oci-archive:/tmp/x.tar:localhost:5000/name:tag', { transport: 'oci-archive', path: '/tmp/x.tar', name: 'localhost:5000/name:tag' }],
  ['oci:/tmp/plain:latest', { transport: 'oci', path: '/tmp/plain', name: 'latest' }],
  ['docker-archive:/tmp/x.tar:busybox:latest', { transport: 'docker-archive', path: '/tmp/x.tar', name: 'busybox:latest' }],
  ['docker-archive:/tmp/x.tar:localhost:5000/app:1', { transport: 'docker-archive', path: '/tmp/x.tar', name: 'localhost:5000/app:1' }],
  // an index instead of a name
  ['docker-archive:/tmp/x.tar:@0', { transport: 'docker-archive', path: '/tmp/x.tar', name: '@0' }],
  ['oci-archive:/tmp/x.tar:@12', { transport: 'oci-archive', path: '/tmp/x.tar', name: '@12' }],
  ['oci:/tmp/plain:@1', { transport: 'oci', path: '/tmp/plain', name: '@1' }],
  // paths holding colons that exist: the whole, or the prefix that exists
  ['oci-archive:/tmp/a:b.tar', { transport: 'oci-archive', path: '/tmp/a:b.tar' }],
  ['oci-archive:/tmp/a:b.tar:myname:1.0', { transport: 'oci-archive', path: '/tmp/a:b.tar', name: 'myname:1.0' }],
  ['oci:/data/odd:dir:v2', { transport: 'oci', path: '/data/odd:dir', name: 'v2' }],
  ['docker-archive:/tmp/a:b.tar:@1', { transport: 'docker-archive', path: '/tmp/a:b.tar', name: '@1' }],
  // nothing exists: containers/image's first colon, so the error names the path before it
  ['oci-archive:/missing.tar:app:2', { transport: 'oci-archive', path: '/missing.tar', name: 'app:2' }],
  ['oci-archive:/missing.tar', { transport: 'oci-archive', path: '/missing.tar' }],
  // ... unless what follows is no image name: then it is all path
  ['oci-archive:/missing:/x.tar', { transport: 'oci-archive', path: '/missing:/x.tar' }],
  ['docker-archive:/missing.tar:UPPER', { transport: 'docker-archive', path: '/missing.tar:UPPER' }],
  // other references are not local
  ['busybox:latest', undefined],
  ['localhost:5000/app:1', undefined],
  ['docker://busybox', undefined],
];

for (const [ref, want] of cases) {
  test(`parseLocalRef ${ref}`, (t) => {
    t.deepEqual(parseLocalRef(ref, { exists }), want);
    t.is(isLocalRef(ref), want !== undefined);
  });
}

test('a reference without a path is a typed error naming it', (t) => {
  for (const ref of ['oci-archive:', 'oci::name', 'docker-archive:']) {
    const err = t.throws(() => parseLocalRef(ref, { exists }), { instanceOf: LayerstoreError });
    t.is(err?.code, 'TSBUILD_REFERENCE_INVALID');
    t.true(err?.message.startsWith(ref), err?.message);
  }
});

test('an existing path followed by something that is no image name is a typed error', (t) => {
  for (const ref of ['docker-archive:/tmp/x.tar:app@sha256:' + 'b'.repeat(64), 'oci-archive:/tmp/x.tar:/abs', 'oci:/tmp/plain:-x']) {
    const err = t.throws(() => parseLocalRef(ref, { exists }), { instanceOf: LayerstoreError });
    t.is(err?.code, 'TSBUILD_REFERENCE_INVALID');
    t.regex(err!.message, /is not an image name for \/tmp\//);
  }
});

test('without an exists function, the real filesystem decides', (t) => {
  t.deepEqual(parseLocalRef('oci:/:x'), { transport: 'oci', path: '/', name: 'x' });
});
