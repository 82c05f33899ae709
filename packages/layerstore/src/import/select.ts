/**
 * Choosing one image from an OCI index (an archive's or layout's index.json): by name,
 * by position (`@N`), or the only one; nested indexes (multi-platform images) by platform.
 */
import { LayerstoreError } from '../errors.js';
import { MediaType } from '../image/media-types.js';
import { formatPlatform, platformMatches } from '../image/platform.js';
import { REF_NAME_ANNOTATION, type Descriptor, type Index, type Platform } from '../image/types.js';
import { familiarString, parseReference, withDefaultTag } from '../reference.js';

export const CONTAINERD_NAME = 'io.containerd.image.name';

export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;
}

function normalised(name: string): string | undefined {
  try {
    return familiarString(withDefaultTag(parseReference(name)));
  } catch {
    return undefined;
  }
}

/** Names an index entry answers to: its ref.name as written and normalised, and containerd's full name. */
export function entryNames(d: Descriptor): string[] {
  const out = new Set<string>();
  for (const key of [REF_NAME_ANNOTATION, CONTAINERD_NAME]) {
    const v = d.annotations?.[key];
    if (v === undefined) continue;
    out.add(v);
    const n = normalised(v);
    if (n) out.add(n);
  }
  return [...out];
}

export function selectEntry(index: Index, where: string, name?: string): Descriptor {
  const entries = index.manifests;
  if (name === undefined || name === '') {
    if (entries.length === 1) return entries[0]!;
    const names = entries.flatMap((e) => entryNames(e).slice(0, 1));
    throw new LayerstoreError('TSBUILD_IMAGE_NOT_FOUND', `${where} holds ${entries.length} images; name one (${names.join(', ') || 'none are named'})`);
  }
  const position = /^@(\d+)$/.exec(name);
  if (position) {
    // `oci:DIR:@N` (containers/image): the N-th entry of the index, from 0.
    const hit = entries[Number(position[1])];
    if (!hit) throw new LayerstoreError('TSBUILD_IMAGE_NOT_FOUND', `${where} has no image ${name} (it holds ${entries.length})`);
    return hit;
  }
  const want = new Set([name, normalised(name)].filter((x): x is string => x !== undefined));
  const hit = entries.find((e) => entryNames(e).some((n) => want.has(n)));
  if (!hit) throw new LayerstoreError('TSBUILD_IMAGE_NOT_FOUND', `${where} has no image named ${JSON.stringify(name)}`);
  return hit;
}

export function selectPlatform(index: Index, want: Platform, where: string): Descriptor {
  const hit = index.manifests.find((m) => !isIndexMediaType(m.mediaType) && platformMatches(m.platform, want));
  if (!hit) {
    const have = index.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : 'unknown')).join(', ');
    throw new LayerstoreError('TSBUILD_IMAGE_NOT_FOUND', `${where} has no image for ${want.os}/${want.architecture} (it has: ${have})`);
  }
  return hit;
}
