/**
 * docker-archive (what `docker save` writes and `docker load` reads): `manifest.json`
 * and `repositories`, with the blobs in an OCI image layout beside them (`index.json`,
 * `oci-layout`, `blobs/sha256/...`) as docker 25+ and BuildKit write it. The manifest
 * the layout holds is the image's own, so a build's manifest digest names something
 * this archive contains; older readers use `manifest.json` alone.
 */
import { digestHex } from '../digest.js';
import { LayerstoreError } from '../errors.js';
import { familiarName, parseReference, withDefaultTag } from '../reference.js';
import type { Store } from '../store/store.js';
import { writeArchive } from './archive-writer.js';
import { blobPath, layoutFiles, type ExportImage } from './oci.js';

interface DockerManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

export async function writeDockerArchive(store: Store, dest: string, images: ExportImage[], opts: { mtime?: number } = {}): Promise<void> {
  const manifest: DockerManifestEntry[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { image, names } of images) {
    for (const l of image.manifest.layers) {
      if (l.urls?.length) throw new LayerstoreError('TSBUILD_UNSUPPORTED', `layer ${l.digest} is a foreign layer; docker-archive export needs its content`);
    }
    const tags = names.map((n) => {
      const ref = withDefaultTag(parseReference(n));
      const repo = familiarName(ref);
      (repositories[repo] ??= {})[ref.tag ?? 'latest'] = digestHex(image.id);
      return `${repo}:${ref.tag ?? 'latest'}`;
    });
    manifest.push({ Config: blobPath(image.manifest.config.digest), RepoTags: tags.length > 0 ? tags : null, Layers: image.manifest.layers.map((l) => blobPath(l.digest)) });
  }
  const json = (v: unknown) => Buffer.from(`${JSON.stringify(v)}\n`);
  const manifestBytes = json(manifest);
  const repoBytes = json(repositories);
  const { blobs, index, layout } = layoutFiles(store, images);
  await writeArchive(
    dest,
    [
      ...blobs,
      index,
      { name: 'manifest.json', size: manifestBytes.length, body: manifestBytes },
      layout,
      ...(Object.keys(repositories).length > 0 ? [{ name: 'repositories', size: repoBytes.length, body: repoBytes }] : []),
    ],
    opts.mtime ?? 0,
  );
}
