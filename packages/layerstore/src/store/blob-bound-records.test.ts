import test from 'ava';
import { join } from 'node:path';
import { digestHex, type Digest } from '../digest.js';
import { tempDir } from '../testing/fstree.js';
import { transaction } from './changes.js';
import { Store } from './store.js';

test('a failed operation takes back the cache records named after the blobs it takes back', async (t) => {
  const store = await Store.open(join(await tempDir(t), 'store'));
  t.teardown(() => store.close());
  const kept = await store.blobs.writeBytes(Buffer.from('kept'));
  const image = await store.putImage({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [kept.digest] } }, [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: kept.digest, size: kept.size }]);
  await store.tag(image, 'kept:1');
  let written: Digest | undefined;
  await t.throwsAsync(
    transaction(store, async () => {
      const blob = await store.blobs.writeBytes(Buffer.from('taken back'));
      written = blob.digest;
      await store.records<object>('layer-sizes').put(digestHex(blob.digest), { digest: blob.digest, size: 10 });
      await store.records<object>('other-kind').put(digestHex(blob.digest), { digest: blob.digest });
      await store.records<object>('unrelated').put(digestHex(blob.digest), { digest: kept.digest });
      await store.records<object>('layer-sizes').put(digestHex(kept.digest), { digest: kept.digest, size: 4 });
      throw new Error('bad input');
    }),
    { message: 'bad input' },
  );
  t.false(await store.blobs.has(written!));
  t.is(await store.readRecord('layer-sizes', digestHex(written!)), undefined);
  t.is(await store.readRecord('other-kind', digestHex(written!)), undefined);
  t.truthy(await store.readRecord('unrelated', digestHex(written!)), 'a record about another blob stays');
  t.truthy(await store.readRecord('layer-sizes', digestHex(kept.digest)), 'the blob a tag reaches stays, with its records');
});
