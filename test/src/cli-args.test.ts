/** Arguments mean what they say: global flags anywhere, `build -`, `--platform`, parser directives. */
import test from 'ava';
import { join } from 'node:path';
import { tsbuild } from './helpers/cli.js';
import { busyboxStore } from './helpers/busybox.js';
import { removeDir } from './helpers/fixtures.js';

test('global flags before or after the command word keep the container command', async (t) => {
  const root = await busyboxStore();
  try {
    for (const args of [
      ['--insecure-registry', 'registry.lan:5000', 'run', 'busybox', 'echo', 'hello'],
      ['--insecure-registry=registry.lan:5000', '--registry-mirror', 'mirror.lan', 'run', 'busybox', 'echo', 'hello'],
      ['run', '--insecure-registry', 'registry.lan:5000', 'busybox', 'echo', 'hello'],
      ['--registry-mirror', 'mirror.lan', 'run', '-e', 'X=1', 'busybox', 'echo', 'hello'],
    ]) {
      const res = await tsbuild(args, { root });
      t.is(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
      t.is(res.stdout, 'hello\n', args.join(' '));
    }
  } finally {
    await removeDir(join(root, '..'));
  }
});
