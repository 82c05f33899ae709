/**
 * The RecordStore conformance suite (store/records.ts): every implementation registers
 * it with a factory for an empty store of a kind, and must pass all of it.
 */
import type { ExecutionContext, TestFn } from 'ava';
import type { RecordKind, RecordStore } from '../store/records.js';

interface Rec {
  n: number;
  tags?: string[];
}

export interface RecordSuiteOptions {
  /** A fresh, empty store of `kind` with these rules. */
  make(t: ExecutionContext, kind: string, spec: RecordKind): Promise<RecordStore<Rec>>;
}

export function recordStoreSuite(test: TestFn, name: string, opts: RecordSuiteOptions): void {
  const title = (s: string) => `record store (${name}): ${s}`;

  test(title('a record put is got back whole; a missing one is undefined'), async (t) => {
    const s = await opts.make(t, 'things', {});
    t.is(s.kind, 'things');
    t.is(await s.get('a'), undefined);
    await s.put('a', { n: 1, tags: ['x'] });
    t.deepEqual(await s.get('a'), { n: 1, tags: ['x'] });
    await s.put('a', { n: 2 });
    t.deepEqual(await s.get('a'), { n: 2 }, 'a put replaces');
  });

  test(title('a record the kind finds malformed reads as missing, never as an error'), async (t) => {
    const s = await opts.make(t, 'checked', { valid: (v) => typeof v.n === 'number' && v.n > 0 });
    await s.put('good', { n: 1 });
    await s.put('bad', { n: -1 });
    t.deepEqual(await s.get('good'), { n: 1 });
    t.is(await s.get('bad'), undefined);
  });

  test(title('keys lists the records; delete removes one, and deleting a missing one is no error'), async (t) => {
    const s = await opts.make(t, 'listed', { holdsContent: true, buildCache: true });
    t.deepEqual(await s.keys(), []);
    await s.put('a', { n: 1 });
    await s.put('b', { n: 2 });
    t.deepEqual((await s.keys()).sort(), ['a', 'b']);
    await s.delete('a');
    await s.delete('a');
    t.deepEqual(await s.keys(), ['b']);
    t.is(await s.get('a'), undefined);
  });
}
