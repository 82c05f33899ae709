/**
 * The shapes of the build cache's records (cache.ts), checked when read: a record that a
 * crash, an older tsbuild or a hand edit left malformed counts as missing (a cache miss),
 * never as an error in the middle of a build.
 */
import { asDescriptor, badDocument, isDigest, isHoldingRecord, isJsonObject, LayerstoreError } from '@tsbuild/layerstore';

function isDescriptor(v: unknown): boolean {
  try {
    asDescriptor(v, 'descriptor', badDocument('record'));
    return true;
  } catch (err) {
    if (err instanceof LayerstoreError) return false;
    throw err;
  }
}

/** `cache/steps/<key>`: what a layer step produced. */
export function isStepRecord(v: Record<string, unknown>): boolean {
  return (
    isHoldingRecord(v) &&
    typeof v.created === 'string' &&
    isDigest(v.diffId) &&
    isDescriptor(v.descriptor) &&
    typeof v.createdBy === 'string' &&
    isJsonObject(v.inputs)
  );
}

/** `cache/positions/<hash>`: the key and inputs last seen at a step. */
export function isPositionRecord(v: Record<string, unknown>): boolean {
  return isDigest(v.key) && isJsonObject(v.inputs);
}
