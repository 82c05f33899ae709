import type { Readable } from 'node:stream';
import { DigestingStream, type Digest } from '../digest.js';
import type { Descriptor } from '../image/types.js';
import { openUncompressed } from '../layer/commit.js';
import type { Store } from '../store/store.js';

/** An uncompressed layer stream checked against its diff_id as it is read. */
export async function layerAsStream(store: Store, desc: Descriptor, diffId: Digest): Promise<Readable> {
  const raw = await openUncompressed(store, desc, diffId);
  const check = new DigestingStream({ digest: diffId, what: `layer ${desc.digest} (diff_id ${diffId})` });
  raw.on('error', (err) => check.destroy(err));
  return raw.pipe(check);
}
