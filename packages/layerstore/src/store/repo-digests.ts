/**
 * Which repository digests an image has, as docker's `RepoDigests` shows them
 * (`busybox@sha256:...`, `localhost:5000/app@sha256:...`): recorded by a pull (the digest
 * the reference resolved to, an index for a multi-platform image) and by a push (the
 * manifest digest the registry holds).
 *
 * One small record per image ID, `cache/repo-digests/<config hex>`:
 *   { "digest": "sha256:<config>", "repoDigests": ["busybox@sha256:...", ...] }
 * Not a root for prune: it goes with the config blob (the `digest` field), like the other
 * cache records. Updates take a lock, so concurrent pulls and pushes keep each other's
 * entries.
 */
import { digestHex, isDigest, type Digest } from '../digest.js';
import { familiarName, type Reference } from '../reference.js';
import { withLock } from './lock.js';
import type { Store } from './store.js';

const KIND = 'repo-digests';
const LOCK = 'repo-digests.lock';
/** Entries kept per image (the most recent ones). */
const MAX_ENTRIES = 32;

interface RepoDigestRecord {
  digest: Digest;
  repoDigests: string[];
}

/** `busybox@sha256:...` for the repository of `ref` (its tag dropped). */
export function repoDigest(ref: Reference, manifestDigest: Digest): string {
  return `${familiarName(ref)}@${manifestDigest}`;
}

/** Remember that `ref`'s repository holds image `id` as `manifestDigest`. */
export async function recordRepoDigest(store: Store, id: Digest, ref: Reference, manifestDigest: Digest): Promise<void> {
  const entry = repoDigest(ref, manifestDigest);
  await withLock(store.locksDir, LOCK, async () => {
    const known = await repoDigests(store, id);
    if (known.includes(entry)) return;
    await store.records<RepoDigestRecord>(KIND).put(digestHex(id), { digest: id, repoDigests: [entry, ...known].slice(0, MAX_ENTRIES) } satisfies RepoDigestRecord);
  });
}

/** The repository digests recorded for image `id`, most recent first. */
export async function repoDigests(store: Store, id: Digest): Promise<string[]> {
  const rec = await store.records<Partial<RepoDigestRecord>>(KIND).get(digestHex(id));
  if (!rec || rec.digest !== id || !Array.isArray(rec.repoDigests)) return [];
  return rec.repoDigests.filter((r): r is string => typeof r === 'string' && isDigest(r.slice(r.lastIndexOf('@') + 1)));
}
