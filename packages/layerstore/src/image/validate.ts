/**
 * The shapes of the OCI documents tsbuild reads from outside, checked once where they are
 * read so that nothing after has to doubt them: an index, a manifest, a descriptor (the
 * image config is in validate-config.ts). A wrong shape is a LayerstoreError
 * (TSBUILD_MANIFEST_INVALID) naming the document and the field:
 *
 *     asIndex(JSON.parse('{"schemaVersion":2,"manifests":[null]}'), 'index.json')
 *       // throws "index.json: manifests[0] is not a descriptor"
 *
 * Like Go's encoding/json, `null` counts as absent for optional members. Members tsbuild
 * does not know are kept as they are.
 */
import { isDigest } from '../digest.js';
import { LayerstoreError } from '../errors.js';
import { isJsonObject } from './json.js';
import type { Descriptor, Index, Manifest, Platform } from './types.js';

/** Sizes above this in a descriptor are refused outright. */
export const MAX_BLOB_SIZE = 2 ** 40;

/** Makes the error for one document: `bad('layers[2] has no mediaType')`. */
export type Bad = (why: string) => LayerstoreError;

export function badDocument(what: string): Bad {
  return (why) => new LayerstoreError('TSBUILD_MANIFEST_INVALID', `${what}: ${why}`);
}

const absent = (v: unknown): boolean => v === undefined || v === null;

/** An optional string member. */
export function checkString(v: unknown, at: string, bad: Bad): void {
  if (!absent(v) && typeof v !== 'string') throw bad(`${at} is not a string`);
}

/** An optional list of strings. */
export function checkStrings(v: unknown, at: string, bad: Bad): void {
  if (absent(v)) return;
  if (!Array.isArray(v)) throw bad(`${at} is not a list of strings`);
  v.forEach((s, i) => {
    if (typeof s !== 'string') throw bad(`${at}[${i}] is not a string`);
  });
}

/** An optional object whose values are strings (annotations, labels). */
export function checkStringMap(v: unknown, at: string, bad: Bad): void {
  if (absent(v)) return;
  if (!isJsonObject(v)) throw bad(`${at} is not an object of strings`);
  for (const [k, s] of Object.entries(v)) if (typeof s !== 'string') throw bad(`${at}[${JSON.stringify(k)}] is not a string`);
}

function checkPlatform(v: unknown, at: string, bad: Bad): void {
  if (absent(v)) return;
  if (!isJsonObject(v)) throw bad(`${at} is not a platform`);
  const p = v as Partial<Record<keyof Platform, unknown>>;
  for (const key of ['architecture', 'os'] as const) if (typeof p[key] !== 'string') throw bad(`${at}.${key} is not a string`);
  checkString(p.variant, `${at}.variant`, bad);
  checkString(p['os.version'], `${at}.os.version`, bad);
  checkStrings(p['os.features'], `${at}.os.features`, bad);
}

/** A descriptor: media type, strict digest, a size tsbuild accepts, and well-formed extras. */
export function asDescriptor(v: unknown, at: string, bad: Bad): Descriptor {
  if (!isJsonObject(v)) throw bad(`${at} is not a descriptor`);
  const { mediaType, digest, size } = v;
  if (typeof mediaType !== 'string' || mediaType === '') throw bad(`${at} has no mediaType`);
  if (!isDigest(digest)) throw bad(`${at} has an invalid digest ${JSON.stringify(String(digest).slice(0, 80))} (want sha256:<64 lowercase hex>)`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > MAX_BLOB_SIZE) throw bad(`${at} has an invalid size ${JSON.stringify(size)}`);
  if (!absent(v.urls) && (!Array.isArray(v.urls) || v.urls.some((u) => typeof u !== 'string'))) throw bad(`${at} has invalid urls`);
  checkStringMap(v.annotations, `${at}.annotations`, bad);
  checkPlatform(v.platform, `${at}.platform`, bad);
  return v as unknown as Descriptor;
}

function checkHeader(v: unknown, bad: Bad): Record<string, unknown> {
  if (!isJsonObject(v)) throw bad('not a JSON object');
  if (v.schemaVersion !== 2) throw bad(`schemaVersion ${JSON.stringify(v.schemaVersion) ?? 'missing'}, want 2`);
  checkString(v.mediaType, 'mediaType', bad);
  checkStringMap(v.annotations, 'annotations', bad);
  return v;
}

/** An image index (or Docker manifest list): `what` names it in errors. */
export function asIndex(v: unknown, what: string, bad: Bad = badDocument(what)): Index {
  const doc = checkHeader(v, bad);
  if (!Array.isArray(doc.manifests)) throw bad('"manifests" is not a list');
  doc.manifests.forEach((d, i) => asDescriptor(d, `manifests[${i}]`, bad));
  return doc as unknown as Index;
}

/** An image manifest (OCI or Docker schema 2): `what` names it in errors. */
export function asManifest(v: unknown, what: string, bad: Bad = badDocument(what)): Manifest {
  const doc = checkHeader(v, bad);
  if (absent(doc.config)) throw bad('no "config": not an image manifest');
  asDescriptor(doc.config, 'config', bad);
  if (!Array.isArray(doc.layers)) throw bad('"layers" is not a list: not an image manifest');
  doc.layers.forEach((d, i) => asDescriptor(d, `layers[${i}]`, bad));
  if (!absent(doc.subject)) asDescriptor(doc.subject, 'subject', bad);
  return doc as unknown as Manifest;
}
