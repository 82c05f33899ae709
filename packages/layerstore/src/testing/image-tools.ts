/**
 * The oracle's outside opinions (validate-image.ts): layer bytes decompressed by zlib or
 * the `zstd` program rather than the library's compress.ts, and what `skopeo inspect`
 * and `umoci stat` make of a written image.
 */
import { spawn } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { sha256, type Digest } from '../digest.js';
import type { Compression } from '../image/media-types.js';
import { run } from './fstree.js';
import type { OpenedImage } from './image-location.js';
import type { Problems } from './layout-checks.js';

function zstdDecompress(bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`zstd -d: exit ${code}: ${err}`))));
    child.stdin.on('error', () => {}); // zstd may stop reading a corrupt frame early; its exit status says so
    child.stdin.end(bytes);
  });
}

/** The digest of a layer's uncompressed tar (its diff_id). */
export async function uncompressedDigest(bytes: Buffer, compression: Compression): Promise<Digest> {
  if (compression === 'gzip') return sha256(gunzipSync(bytes));
  if (compression === 'zstd') {
    // The zstd program also reads gzip and xz: the frame magic decides that this is zstd.
    if (bytes.readUInt32LE(0) !== 0xfd2fb528) throw new Error('no zstd frame magic');
    return sha256(await zstdDecompress(bytes));
  }
  return sha256(bytes);
}

export interface ToolFacts {
  manifest: Digest;
  config: Digest;
  layers: number;
  /** The ref.name of the chosen index entry, for `oci:DIR:NAME`. */
  refName?: string | undefined;
  /** A docker-archive's image name (`app:1`), when the caller named one. */
  dockerName?: string | undefined;
  /** umoci reads OCI manifests only. */
  family: 'oci' | 'docker';
}

/**
 * skopeo reads the manifest the oracle read (a docker-archive: skopeo builds its own from
 * manifest.json, which must name the same config and as many layers); umoci, given a
 * named OCI layout entry of OCI media types, reads its manifest and config and checks
 * their digests.
 */
export async function checkWithTools(opened: OpenedImage, kind: string, facts: ToolFacts, problems: Problems): Promise<void> {
  if (!opened.skopeo) return;
  const suffix = kind === 'docker-archive' ? facts.dockerName : facts.refName;
  const ref = suffix === undefined || kind === 'registry' ? opened.skopeo : `${opened.skopeo}:${suffix}`;
  const tls = kind === 'registry' ? ['--tls-verify=false'] : [];
  try {
    const raw = (await run('skopeo', ['inspect', '--raw', ...tls, ref], { maxBuffer: 16 << 20, encoding: 'buffer' })).stdout;
    if (kind === 'docker-archive') {
      const m = JSON.parse(raw.toString('utf8')) as { config?: { digest?: string }; layers?: unknown[] };
      if (m.config?.digest !== facts.config) problems.add(`skopeo inspect ${ref}: config ${m.config?.digest}, want ${facts.config}`);
      if (m.layers?.length !== facts.layers) problems.add(`skopeo inspect ${ref}: ${m.layers?.length} layers, want ${facts.layers}`);
    } else if (sha256(raw) !== facts.manifest) {
      problems.add(`skopeo inspect ${ref}: manifest ${sha256(raw)}, want ${facts.manifest}`);
    }
  } catch (err) {
    problems.add(`skopeo inspect ${ref} failed: ${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? (err as Error).message}`);
  }
  if (opened.dir === undefined || facts.refName === undefined || facts.family !== 'oci') return;
  const image = `${opened.dir}:${facts.refName}`;
  try {
    await run('umoci', ['stat', '--json', '--image', image], { maxBuffer: 16 << 20 });
  } catch (err) {
    problems.add(`umoci stat ${image} failed: ${(err as { stderr?: string }).stderr?.trim() ?? (err as Error).message}`);
  }
}
