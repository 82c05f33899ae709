/**
 * Reading a JSON document that came from outside (a registry, an archive, a layout, the
 * store's own files): parsed only when well formed and at most MAX_JSON_DEPTH deep, as
 * deeper values cannot be written back (JSON.stringify recurses). Shapes are checked
 * afterwards by validate.ts.
 *
 *     const doc = parseJson(bytes, 'OCI archive app.tar: index.json');   // unknown
 *     const index = asIndex(doc, 'OCI archive app.tar: index.json');     // Index, or a typed error
 */
import { LayerstoreError, type LayerstoreErrorCode } from '../errors.js';

/** Deepest nesting of arrays and objects accepted (Go's encoding/json allows 10,000). */
export const MAX_JSON_DEPTH = 256;

/**
 * Parse `input` as JSON; `what` names the document in errors (code
 * TSBUILD_MANIFEST_INVALID unless `opts.code` says otherwise).
 */
export function parseJson(input: Buffer | string, what: string, opts: { code?: LayerstoreErrorCode } = {}): unknown {
  const code = opts.code ?? 'TSBUILD_MANIFEST_INVALID';
  const text = typeof input === 'string' ? input : input.toString('utf8');
  if (nestingDepth(text) > MAX_JSON_DEPTH) {
    throw new LayerstoreError(code, `${what}: JSON nested more than ${MAX_JSON_DEPTH} deep`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new LayerstoreError(code, `${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** A JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The deepest nesting of `[` and `{` outside strings (a quick scan, even of malformed text). */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
}
