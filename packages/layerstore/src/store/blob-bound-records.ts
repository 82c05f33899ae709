/**
 * Cache records named after a blob, `cache/<kind>/<blob hex>` holding `"digest": "<that
 * blob>"` (layer sizes, registry blob locations, checked diff_ids), describe that blob
 * and go with it: prune drops them once the blob is gone (gc.ts), and an operation that
 * takes back a blob it wrote (changes.ts) drops them at once, so that a failed build
 * leaves the store as it found it.
 */
import { readdir } from 'node:fs/promises';
import { digestHex, type Digest } from '../digest.js';
import type { Store } from './store.js';

export async function dropRecordsOf(store: Store, blob: Digest): Promise<void> {
  const key = digestHex(blob);
  for (const kind of await readdir(store.cacheDir).catch(() => [] as string[])) {
    if (kind.startsWith('.')) continue;
    const records = store.records<{ digest?: unknown }>(kind);
    const rec = await records.get(key);
    if (rec?.digest === blob) await records.delete(key);
  }
}
