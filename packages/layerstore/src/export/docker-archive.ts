/**
 * docker-archive (what `docker save` writes and `docker load` reads):
 * `manifest.json`, `repositories`, `<config hex>.json`, `<layer hex>/layer.tar`.
 */
import { digestHex } from '../digest.js';
import { LayerstoreError } from '../errors.js';
import { familiarName, parseReference, withDefaultTag } from '../reference.js';
import type { Store } from '../store/store.js';
import { writeArchive, type ArchiveFile } from './archive-writer.js';
import type { ExportImage } from './oci.js';

interface DockerManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

export async function writeDockerArchive(store: Store, dest: string, images: ExportImage[], opts: { mtime?: number } = {}): Promise<void> {
  const files = new Map<string, ArchiveFile>();
  const manifest: DockerManifestEntry[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const { image, names } of images) {
    const cfgName = `${digestHex(image.manifest.config.digest)}.json`;
    const cfg = image.manifest.config;
    files.set(cfgName, { name: cfgName, size: cfg.size, body: () => store.blobs.open(cfg, `config ${cfg.digest}`) });
    const layers: string[] = [];
    for (const l of image.manifest.layers) {
      if (l.urls?.length) throw new LayerstoreError('TSBUILD_UNSUPPORTED', `layer ${l.digest} is a foreign layer; docker-archive export needs its content`);
      const dir = digestHex(l.digest);
      files.set(dir, { name: dir, dir: true, size: 0, body: Buffer.alloc(0) });
      files.set(`${dir}/layer.tar`, { name: `${dir}/layer.tar`, size: l.size, body: () => store.blobs.open(l, `layer ${l.digest}`) });
      layers.push(`${dir}/layer.tar`);
    }
    const tags = names.map((n) => {
      const ref = withDefaultTag(parseReference(n));
      const repo = familiarName(ref);
      (repositories[repo] ??= {})[ref.tag ?? 'latest'] = digestHex(image.id);
      return `${repo}:${ref.tag ?? 'latest'}`;
    });
    manifest.push({ Config: cfgName, RepoTags: tags.length > 0 ? tags : null, Layers: layers });
  }
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest)}\n`);
  const repoBytes = Buffer.from(`${JSON.stringify(repositories)}\n`);
  const sorted = [...files.values()].sort((a, b) => a.name.localeCompare(b.name));
  sorted.push({ name: 'manifest.json', size: manifestBytes.length, body: manifestBytes });
  if (Object.keys(repositories).length > 0) sorted.push({ name: 'repositories', size: repoBytes.length, body: repoBytes });
  await writeArchive(dest, sorted, opts.mtime ?? 0);
}
