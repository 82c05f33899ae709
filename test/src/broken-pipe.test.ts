/**
 * A reader that goes away (`tsbuild run IMG yes | head -1`) ends the command quietly with
 * 141 (128 + SIGPIPE), never a Node stack trace, and the container is torn down.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { spawnCli, tsbuild } from './helpers/cli.js';
import { busyboxStore } from './helpers/busybox.js';
import { ourMounts, processesMatching } from './helpers/host.js';

interface Closed {
  code: number | null;
  stderr: string;
  /** What was read from stdout before closing it. */
  read: string;
}

/**
 * Run the CLI with stdout (or stderr) a pipe that this side closes: after the first line
 * (`after: 'line'`), or before reading anything (`after: 'start'`).
 */
function withClosedPipe(args: string[], root: string, opts: { after: 'line' | 'start'; close?: 'stdout' | 'stderr' }): Promise<Closed> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, { root });
    const closing = opts.close ?? 'stdout';
    const other = closing === 'stdout' ? child.stderr : child.stdout;
    let read = '';
    let kept = '';
    other.on('data', (d: Buffer) => (kept += d.toString()));
    const pipe = child[closing];
    if (opts.after === 'start') pipe.destroy();
    else {
      pipe.on('data', (d: Buffer) => {
        read += d.toString();
        if (read.includes('\n')) pipe.destroy();
      });
    }
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr: closing === 'stdout' ? kept : '', read }));
  });
}

const STACK = /\n\s+at |Error:|EPIPE|node:/;

test('run IMG yes | head -1: quiet, 141, the container and its mounts are gone', async (t) => {
  const root = await busyboxStore(t);
  const marker = `tsbuild-epipe-${randomBytes(4).toString('hex')}`;
  const res = await withClosedPipe(['run', 'busybox', 'yes', marker], root, { after: 'line' });
  t.true(res.read.startsWith(`${marker}\n`), res.read.slice(0, 80));
  t.is(res.code, 141, res.stderr);
  t.notRegex(res.stderr, STACK);
  t.is(res.stderr, '');
  t.deepEqual(await processesMatching(marker), [], 'no process of the container is left');
  t.deepEqual(await ourMounts(root), [], 'no mount is left');
  // The store is fine for the next run.
  t.is((await tsbuild(['run', 'busybox', 'echo', 'again'], { root })).stdout, 'again\n');
});

test('save, inspect, images and history to a closed stdout: quiet, 141', async (t) => {
  const root = await busyboxStore(t);
  for (const args of [['save', 'busybox'], ['inspect', 'busybox'], ['images'], ['history', 'busybox']]) {
    const res = await withClosedPipe(args, root, { after: 'start' });
    t.is(res.code, 141, `${args.join(' ')}: ${res.stderr}`);
    t.notRegex(res.stderr, STACK, args.join(' '));
  }
});

test('a closed stderr during run ends it the same way', async (t) => {
  const root = await busyboxStore(t);
  const marker = `tsbuild-epipe-${randomBytes(4).toString('hex')}`;
  const res = await withClosedPipe(['run', 'busybox', 'sh', '-c', `yes ${marker} >&2`], root, { after: 'line', close: 'stderr' });
  t.is(res.code, 141);
  t.deepEqual(await processesMatching(marker), []);
  t.deepEqual(await ourMounts(root), []);
});
