/**
 * Where a written image is, opened for the oracle (validate-image.ts) as raw bytes: a
 * store image, an OCI layout directory, an OCI archive or a docker-archive (each
 * unpacked by the system's `tar`), or a tag in a plain-http registry (fetched with
 * `fetch`, not the library's client). Nothing here trusts the writer: blobs are read
 * by their file name or URL and the caller recomputes every digest.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDigest, type Digest } from '../digest.js';
import type { Descriptor } from '../image/types.js';
import type { Store, StoredImage } from '../store/store.js';
import { run } from './fstree.js';

export type ImageLocation =
  | { kind: 'store'; store: Store; image: StoredImage }
  /** `name`: the image's name as the sink was given it (`app:1`), when the file holds several. */
  | { kind: 'oci-layout' | 'oci-archive' | 'docker-archive'; path: string; name?: string }
  /** `ref`: `HOST:PORT/repo:tag` of a registry that speaks plain http without auth. */
  | { kind: 'registry'; ref: string };

export interface OpenedImage {
  /** What problems are said of: `oci-archive /tmp/x/app.tar`. */
  what: string;
  /** The files, for layouts and archives (an archive unpacked into a temporary directory). */
  dir?: string;
  /** The manifest's descriptor as the location names it (undefined: read it from the layout's index). */
  root?: Descriptor;
  /** The raw bytes of a blob, or undefined when the location does not have it. */
  blob(digest: Digest): Promise<Buffer | undefined>;
  /** What skopeo calls this location (none for a store). */
  skopeo?: string;
  close(): Promise<void>;
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];

async function fileOrUndefined(path: string): Promise<Buffer | undefined> {
  return readFile(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
}

/** A blob of an OCI layout, by the name the image-spec gives it. */
export function layoutBlob(dir: string, digest: Digest): Promise<Buffer | undefined> {
  if (!isDigest(digest)) return Promise.resolve(undefined);
  return fileOrUndefined(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
}

function splitRef(ref: string): { host: string; repo: string; tag: string } {
  const slash = ref.indexOf('/');
  const colon = ref.lastIndexOf(':');
  if (slash < 0 || colon < slash) throw new Error(`validateImage: registry ref ${ref} is not HOST/repo:tag`);
  return { host: ref.slice(0, slash), repo: ref.slice(slash + 1, colon), tag: ref.slice(colon + 1) };
}

async function openRegistry(ref: string): Promise<OpenedImage> {
  const { host, repo, tag } = splitRef(ref);
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { headers: { Accept: MANIFEST_TYPES.join(', ') } });
  if (res.status !== 200) throw new Error(`validateImage: registry ${ref}: GET manifest answered ${res.status}`);
  const body = Buffer.from(await res.arrayBuffer());
  const digest = res.headers.get('docker-content-digest') as Digest;
  const mediaType = res.headers.get('content-type') ?? '';
  return {
    what: `registry ${ref}`,
    root: { digest, mediaType, size: body.length },
    blob: async (d) => {
      if (d === digest) return body;
      const got = await fetch(`http://${host}/v2/${repo}/blobs/${d}`);
      if (got.status === 404) return undefined;
      if (got.status !== 200) throw new Error(`validateImage: registry ${ref}: GET blob ${d} answered ${got.status}`);
      return Buffer.from(await got.arrayBuffer());
    },
    skopeo: `docker://${ref}`,
    close: async () => {},
  };
}

export async function openImage(where: ImageLocation): Promise<OpenedImage> {
  if (where.kind === 'store') {
    const { store, image } = where;
    return {
      what: `store image ${image.id}`,
      root: image.manifestDescriptor,
      blob: (d) => (isDigest(d) ? fileOrUndefined(store.blobs.path(d)) : Promise.resolve(undefined)),
      close: async () => {},
    };
  }
  if (where.kind === 'registry') return openRegistry(where.ref);
  const skopeo = `${where.kind === 'oci-layout' ? 'oci' : where.kind}:${where.path}`;
  if (where.kind === 'oci-layout') {
    return { what: `oci-layout ${where.path}`, dir: where.path, blob: (d) => layoutBlob(where.path, d), skopeo, close: async () => {} };
  }
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-oracle-'));
  try {
    await run('tar', ['-xf', where.path, '-C', dir]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    what: `${where.kind} ${where.path}`,
    dir,
    blob: (d) => layoutBlob(dir, d),
    skopeo,
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
