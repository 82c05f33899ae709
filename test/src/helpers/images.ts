/** The layerstore oracle's description of an image in a CLI store, for comparing it with what a sink wrote. */
import { Store } from '@tsbuild/layerstore';
import { validateImage, type ImageDescription } from '@tsbuild/layerstore/testing';

export async function describeStored(root: string, name: string): Promise<ImageDescription> {
  const store = await Store.open(root);
  try {
    return await validateImage({ kind: 'store', store, image: await store.resolveImage(name) });
  } finally {
    await store.close();
  }
}
