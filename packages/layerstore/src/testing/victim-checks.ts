/** Looks at what a breakout case left in the victim harness's view and upper dir (victim.ts). */
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { isWhiteout } from '../layer/whiteout.js';
import { testForm } from './both-ways.js';
import type { Harness } from './victim.js';

/** A path in the harness's view of the applied layers (a Buffer for names that are not UTF-8). */
export const at = (h: Harness, rel: string | Buffer) => (typeof rel === 'string' ? join(h.view, rel) : Buffer.concat([Buffer.from(`${h.view}/`), rel]));
export const text = async (h: Harness, rel: string) => (await readFile(at(h, rel))).toString();
export const exists = (h: Harness, rel: string | Buffer) => lstat(at(h, rel)).then(() => true, () => false);

export async function sameInode(t: ExecutionContext, h: Harness, a: string, b: string): Promise<void> {
  const [sa, sb] = [await lstat(at(h, a)), await lstat(at(h, b))];
  t.is(sa.ino, sb.ino, `${a} and ${b} are one inode`);
}

export async function upperWhiteout(t: ExecutionContext, h: Harness, rel: string): Promise<void> {
  const host = join(h.dest, rel);
  t.true(isWhiteout(await lstat(host), Buffer.from(host), testForm().whiteout), `${rel} is a whiteout in the upper dir`);
}
