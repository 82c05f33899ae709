import test from 'ava';
import { PassThrough } from 'node:stream';
import type { Digest, RegistryEvent } from '@tsbuild/layerstore';
import { pullRenderer, registryWarning } from './registry.js';

const digest = `sha256:${'ab12'.repeat(16)}` as Digest;
const EVENTS: RegistryEvent[] = [
  { type: 'resolved', reference: 'busybox:1', endpoint: 'https://r', digest, mediaType: 'application/vnd.oci.image.manifest.v1+json' },
  { type: 'blob', digest, size: 10, kind: 'config', status: 'fetched', endpoint: 'https://r' },
  { type: 'blob', digest, size: 10, kind: 'layer', status: 'exists', endpoint: 'https://r' },
  { type: 'blob', digest, size: 10, kind: 'layer', status: 'fetched', endpoint: 'https://r' },
  { type: 'progress', digest, size: 10, done: 5 },
  { type: 'retry', endpoint: 'https://r', what: 'blob', attempt: 2, delayMs: 100, reason: 'ECONNRESET' },
  { type: 'fallback', endpoint: 'https://mirror', next: 'https://r', reason: 'HTTP 502' },
  { type: 'warning', message: 'careful' },
  { type: 'pushed', reference: 'localhost:5000/app:1.2', digest, size: 528 },
];

function drawn(quiet: boolean): string {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const draw = pullRenderer(out, quiet);
  for (const e of EVENTS) draw(e);
  return Buffer.concat(chunks).toString();
}

test('pull, push and run draw docker pull\'s lines: layers, retries, fallbacks and warnings; nothing when quiet', (t) => {
  t.is(
    drawn(false),
    'ab12ab12ab12: Already exists\nab12ab12ab12: Pull complete\nretrying blob on https://r (attempt 2, ECONNRESET)\nhttps://mirror failed (HTTP 502), trying https://r\nWARNING: careful\n' + `1.2: digest: ${digest} size: 528\n`,
  );
  t.is(drawn(true), '');
});

test('a build shows retries, fallbacks and warnings as its own warnings, and nothing else', (t) => {
  t.deepEqual(EVENTS.map(registryWarning).filter((e) => e !== undefined), [
    { type: 'warning', message: 'retrying blob on https://r: ECONNRESET' },
    { type: 'warning', message: 'https://mirror: HTTP 502; trying https://r' },
    { type: 'warning', message: 'careful' },
  ]);
});
