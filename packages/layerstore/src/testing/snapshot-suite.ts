/**
 * The SnapshotStore conformance suite (store/snapshots.ts): prepared snapshots are
 * invisible until committed, a commit of a chain id already there discards the new one,
 * abort and remove leave nothing.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext, TestFn } from 'ava';
import { sha256 } from '../digest.js';
import type { SnapshotStore } from '../store/snapshots.js';

export interface SnapshotSuiteOptions {
  /** A fresh, empty snapshot store for one test, and a scratch directory on its filesystem. */
  make(t: ExecutionContext): Promise<{ snapshots: SnapshotStore; scratch: string }>;
}

export function snapshotStoreSuite(test: TestFn, name: string, opts: SnapshotSuiteOptions): void {
  const title = (s: string) => `snapshot store (${name}): ${s}`;
  const chain = sha256('chain');

  test(title('a prepared snapshot is invisible until committed, then found under its chain id'), async (t) => {
    const { snapshots } = await opts.make(t);
    const snap = await snapshots.prepare();
    await writeFile(join(snap.path, 'f'), 'one');
    t.false(await snapshots.has(chain));
    t.deepEqual(await snapshots.list(), []);
    const dir = await snap.commit(chain);
    t.is(dir, snapshots.path(chain));
    t.true(await snapshots.has(chain));
    t.deepEqual(await snapshots.list(), [chain]);
    t.is(await readFile(join(dir, 'f'), 'utf8'), 'one');
    await snap.abort();
    t.true(await snapshots.has(chain), 'abort after commit changes nothing');
  });

  test(title('a second commit of the same chain id is discarded: the first stays'), async (t) => {
    const { snapshots } = await opts.make(t);
    const first = await snapshots.prepare();
    await writeFile(join(first.path, 'f'), 'first');
    await first.commit(chain);
    const second = await snapshots.prepare();
    await writeFile(join(second.path, 'f'), 'second');
    t.is(await second.commit(chain), snapshots.path(chain));
    t.is(await readFile(join(snapshots.path(chain), 'f'), 'utf8'), 'first');
    t.deepEqual(await snapshots.list(), [chain]);
  });

  test(title('an adopted directory is committed in place of a copy; abort and remove leave nothing'), async (t) => {
    const { snapshots, scratch } = await opts.make(t);
    const upper = join(scratch, 'upper');
    await mkdir(upper);
    await writeFile(join(upper, 'f'), 'upper');
    await snapshots.adopt(upper).commit(chain);
    t.deepEqual(await readdir(scratch), [], 'moved, not copied');
    t.is(await readFile(join(snapshots.path(chain), 'f'), 'utf8'), 'upper');
    const dropped = await snapshots.prepare();
    await dropped.abort();
    await snapshots.remove(chain);
    await snapshots.remove(chain);
    t.false(await snapshots.has(chain));
    t.deepEqual(await snapshots.list(), []);
  });
}
