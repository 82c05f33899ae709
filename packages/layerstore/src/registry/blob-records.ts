/**
 * Which repositories of which registry are known to hold a blob, so a push can mount it
 * instead of uploading it again (`POST /v2/<repo>/blobs/uploads/?mount=<digest>&from=<repo>`).
 *
 * One small record per blob in the store's cache, `cache/registry-blobs/<hex>`:
 *   { "digest": "sha256:<hex>",
 *     "repos": { "127.0.0.1:5000": ["library/debian", "team/app"], "docker.io": ["library/busybox"] } }
 * written after successful pulls and pushes, most recent repository first, at most 8 per
 * registry. It is a hint: a lost update (two processes at once) or a stale entry only
 * means an upload instead of a mount. Prune drops it with its blob (the `digest` field).
 */
import { digestHex, type Digest } from '../digest.js';
import type { Store } from '../store/store.js';

const KIND = 'registry-blobs';
const MAX_REPOS = 8;

interface BlobRecord {
  digest: Digest;
  repos: Record<string, string[]>;
}

export async function reposHolding(store: Store, registry: string, digest: Digest): Promise<string[]> {
  const rec = await store.records<BlobRecord>(KIND).get(digestHex(digest));
  const repos = rec?.repos?.[registry];
  return Array.isArray(repos) ? repos.filter((r) => typeof r === 'string') : [];
}

export async function rememberBlobs(store: Store, registry: string, repo: string, digests: Iterable<Digest>): Promise<void> {
  for (const digest of new Set(digests)) {
    const key = digestHex(digest);
    const rec = await store.records<BlobRecord>(KIND).get(key);
    const repos = typeof rec?.repos === 'object' && rec.repos !== null ? rec.repos : {};
    const before = Array.isArray(repos[registry]) ? repos[registry] : [];
    if (before[0] === repo) continue;
    repos[registry] = [repo, ...before.filter((r) => r !== repo)].slice(0, MAX_REPOS);
    await store.records<BlobRecord>(KIND).put(key, { digest, repos } satisfies BlobRecord);
  }
}
