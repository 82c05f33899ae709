import test from 'ava';
import { frontendRef, isOwnFrontend } from './directives.js';

const digest = `@sha256:${'0123456789abcdef'.repeat(4)}`;

test('docker/dockerfile in any spelling is the language tsbuild implements', (t) => {
  for (const v of ['docker/dockerfile', 'docker/dockerfile:1', 'docker/dockerfile:1.4', 'docker/dockerfile:1.7.1', 'docker/dockerfile:1-labs', `docker/dockerfile:1${digest}`, `docker/dockerfile${digest}`, 'docker.io/docker/dockerfile:1', 'index.docker.io/docker/dockerfile:1.5', 'docker/dockerfile:1.7 // comment']) {
    t.true(isOwnFrontend(v), v);
  }
});

test('any other frontend is not', (t) => {
  for (const v of ['docker/dockerfile-upstream:master', 'example.com/docker/dockerfile:1', 'tonistiigi/dockerfile:1', 'docker/dockerfilex', 'ghcr.io/me/frontend', 'Docker/Dockerfile:1', 'docker/dockerfile:@bad']) {
    t.false(isOwnFrontend(v), v);
  }
});

test('the frontend is the first word of the value', (t) => {
  t.is(frontendRef('  example.com/f:1  --arg x'), 'example.com/f:1');
});
