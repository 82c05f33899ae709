import test from 'ava';
import { encodeHeader } from '@tsbuild/layerstore';
import { remoteContext } from './context-arg.js';
import { looksLikeTar } from './stdin-context.js';

test('remote contexts, by docker\'s rules', (t) => {
  t.is(remoteContext('https://github.com/a/b.git'), 'git');
  t.is(remoteContext('https://github.com/a/b.git#main:dir'), 'git');
  t.is(remoteContext('git@github.com:a/b.git'), 'git');
  t.is(remoteContext('git://host/repo'), 'git');
  t.is(remoteContext('github.com/a/b'), 'git');
  t.is(remoteContext('https://example.com/ctx.tar.gz'), 'url');
  t.is(remoteContext('http://example.com/Dockerfile'), 'url');
  for (const local of ['.', 'dir', './github.com/a', '/abs/path.git', 'ctx.git', '-']) t.is(remoteContext(local), undefined, local);
});

test('looksLikeTar: a header block with a matching checksum, nothing else', (t) => {
  const header = encodeHeader({ name: Buffer.from('Dockerfile'), type: 'file', size: 10, mode: 0o644, uid: 0, gid: 0, mtime: 0 });
  t.true(looksLikeTar(header.subarray(0, 512)));
  const corrupt = Buffer.from(header.subarray(0, 512));
  corrupt[0] = corrupt[0]! ^ 1;
  t.false(looksLikeTar(corrupt));
  t.false(looksLikeTar(Buffer.from('FROM busybox\nRUN echo hi\n'.padEnd(600, '#'))));
  t.false(looksLikeTar(Buffer.alloc(512)), 'an all-zero block is the end of an archive, not a header');
  t.false(looksLikeTar(header.subarray(0, 100)), 'too short');
});
