/**
 * One streaming pass over an image archive (docker-archive or OCI archive, from a file
 * or a pipe): every regular file that can be a blob goes straight into the blob store,
 * hashed as it is written; the small metadata files are kept in memory. Nothing is
 * decided before the end, because `manifest.json` usually comes last.
 *
 *   files  `name` -> the blob it became (names normalised: no `./`, no trailing `/`)
 *   links  `name` -> the name it points at (symlinks and hardlinks inside the archive,
 *          e.g. containers/image's `<v1 id>/layer.tar -> ../<diff id>.tar`)
 *   meta   `manifest.json`, `index.json`, `oci-layout`, `repositories` (each at most
 *          MAX_JSON_BLOB bytes)
 *
 * Files named `blobs/sha256/<hex>` must hash to that name (an OCI layout's promise).
 * Names are only keys here: nothing is ever created on disk under an archive name.
 */
import { posix } from 'node:path';
import type { Digest } from '../digest.js';
import { LayerstoreError, TarError, ioError } from '../errors.js';
import { parseJson } from '../image/json.js';
import { MAX_JSON_BLOB } from '../store/blobs.js';
import { readTar } from '../tar/index.js';
import type { ByteInput } from '../tar/source.js';
import type { BlobJournal } from './journal.js';

export interface ArchivedBlob {
  digest: Digest;
  size: number;
}

export interface ArchiveScan {
  where: string;
  files: Map<string, ArchivedBlob>;
  links: Map<string, string>;
  meta: Map<string, Buffer>;
}

const META_FILES = new Set(['manifest.json', 'index.json', 'oci-layout', 'repositories']);
/** Legacy v1 metadata of docker-archives (`<v1 id>/json`, `<v1 id>/VERSION`): never needed. */
const LEGACY_FILE = /^[^/]+\/(?:json|VERSION)$/;
const OCI_BLOB = /^blobs\/sha256\/([a-f0-9]{64})$/;

export function normaliseName(raw: string): string {
  const n = posix.normalize(`/${raw}`).replace(/\/+$/, '');
  return n.slice(1);
}

export async function scanArchive(input: ByteInput, journal: BlobJournal, opts: { where: string; signal?: AbortSignal }): Promise<ArchiveScan> {
  const { where, signal } = opts;
  const scan: ArchiveScan = { where, files: new Map(), links: new Map(), meta: new Map() };
  try {
    for await (const { header, body } of readTar(input)) {
      signal?.throwIfAborted();
      const name = normaliseName(header.name.toString('utf8'));
      if (header.type === 'symlink' || header.type === 'link') {
        const target = header.linkname!.toString('utf8');
        scan.links.set(name, header.type === 'link' ? normaliseName(target) : normaliseName(posix.join(posix.dirname(name), target)));
        scan.files.delete(name);
        continue;
      }
      if (header.type !== 'file' || LEGACY_FILE.test(name)) continue;
      if (META_FILES.has(name)) {
        if (header.size > MAX_JSON_BLOB) throw new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${where}: ${name} is ${header.size} bytes, more than the ${MAX_JSON_BLOB} allowed`);
        const chunks: Buffer[] = [];
        for await (const c of body) chunks.push(c);
        scan.meta.set(name, Buffer.concat(chunks));
        continue;
      }
      const m = OCI_BLOB.exec(name);
      const expect = m ? { digest: `sha256:${m[1]}` as Digest, size: header.size, what: `${where}: ${name}` } : { size: header.size, what: `${where}: ${name}` };
      const res = await journal.write(body, expect);
      scan.files.set(name, { digest: res.digest, size: res.size });
      scan.links.delete(name);
    }
  } catch (err) {
    if (err instanceof TarError) throw new TarError(err.code as 'TSBUILD_TAR_INVALID' | 'TSBUILD_LAYER_UNSAFE', `${where}: ${err.message}`, err.entry);
    if (err instanceof LayerstoreError || signal?.aborted) throw err;
    throw ioError(`read ${where}`, err);
  }
  return scan;
}

/** The blob an archive name stands for, following links inside the archive. */
export function archivedFile(scan: ArchiveScan, name: string): ArchivedBlob | undefined {
  let n = normaliseName(name);
  for (let hops = 0; hops < 16; hops++) {
    const file = scan.files.get(n);
    if (file) return file;
    const next = scan.links.get(n);
    if (next === undefined) return undefined;
    n = next;
  }
  return undefined;
}

/** A metadata file parsed as JSON, or undefined when the archive has none. */
export function metaJson(scan: ArchiveScan, name: string): unknown {
  const bytes = scan.meta.get(name);
  return bytes === undefined ? undefined : parseJson(bytes, `${scan.where}: ${name}`);
}
