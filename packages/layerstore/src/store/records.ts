/**
 * Typed record stores: small JSON records under `cache/<kind>/<key>`, one store per
 * kind, owned by the code that defines the kind (the builder's build cache, layerstore's
 * own compressed-blob and size records). A record is a hint: one that is missing, not a
 * JSON object, or refused by the kind's `valid` reads as undefined, never as an error.
 *
 * The owner of a kind tells the store's upkeep what the kind means, and the store keeps
 * that on disk (`cache/.kinds/<kind>`) so a prune in any other process knows it too:
 *   holdsContent  every record's `holds` (blobs and snapshot chain ids) is a GC root,
 *                 like a tag: prune keeps what any record of the kind holds
 *   buildCache    `prune --all` empties the kind
 * The registration is written before the kind's first record, and stays when
 * `prune --all` empties the kind.
 *
 *   const steps = store.records<StepRecord>('steps', { valid: isStepRecord, holdsContent: true, buildCache: true });
 *   await steps.put(key, { ...result, holds: { blobs: [layer.digest], snapshots: [chainId] } });
 *   const hit = await steps.get(key);     // StepRecord | undefined
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Digest } from '../digest.js';
import { isJsonObject, parseJson } from '../image/json.js';
import { writeFileAtomic } from './fsutil.js';

/** What a kind means to the store's upkeep (see above). */
export interface KindRoles {
  holdsContent?: boolean;
  buildCache?: boolean;
}

export interface RecordKind extends KindRoles {
  /** Which parsed records are well-formed (the others read as undefined). */
  valid?: (v: Record<string, unknown>) => boolean;
}

/** The part of a record of a `holdsContent` kind that prune reads. */
export interface HoldingRecord {
  holds?: { blobs?: Digest[]; snapshots?: Digest[] };
}

export interface RecordStore<T extends object> {
  readonly kind: string;
  get(key: string): Promise<T | undefined>;
  put(key: string, value: T): Promise<void>;
  /** Removing an absent record is no error. */
  delete(key: string): Promise<void>;
  keys(): Promise<string[]>;
}

/** Where kinds are registered, beside the kinds' own folders. */
export const KINDS_DIR = '.kinds';

/** Untyped reads and writes of one record (the primitive under every RecordStore). */
export async function readRecordFile<T extends object>(cacheDir: string, kind: string, key: string, valid?: (v: Record<string, unknown>) => boolean): Promise<T | undefined> {
  const text = await readFile(join(cacheDir, kind, key), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = parseJson(text, `record ${kind}/${key}`);
  } catch {
    return undefined;
  }
  return isJsonObject(value) && (valid?.(value) ?? true) ? (value as T) : undefined;
}

export class FsRecordStore<T extends object> implements RecordStore<T> {
  private registered: Promise<void> | undefined;

  constructor(private readonly cacheDir: string, readonly kind: string, private readonly spec: RecordKind = {}) {}

  get(key: string): Promise<T | undefined> {
    return readRecordFile<T>(this.cacheDir, this.kind, key, this.spec.valid);
  }

  async put(key: string, value: T): Promise<void> {
    await (this.registered ??= this.register());
    await writeFileAtomic(join(this.cacheDir, this.kind, key), JSON.stringify(value));
  }

  async delete(key: string): Promise<void> {
    await rm(join(this.cacheDir, this.kind, key), { force: true });
  }

  async keys(): Promise<string[]> {
    return (await readdir(join(this.cacheDir, this.kind)).catch(() => [] as string[])).filter((k) => !k.startsWith('.'));
  }

  private async register(): Promise<void> {
    const roles: KindRoles = { ...(this.spec.holdsContent ? { holdsContent: true } : {}), ...(this.spec.buildCache ? { buildCache: true } : {}) };
    if (Object.keys(roles).length === 0) return;
    const path = join(this.cacheDir, KINDS_DIR, this.kind);
    const known = await readRecordFile<KindRoles>(this.cacheDir, KINDS_DIR, this.kind);
    if (known?.holdsContent === roles.holdsContent && known?.buildCache === roles.buildCache) return;
    await writeFileAtomic(path, JSON.stringify(roles));
  }
}

/** The registered kinds and their roles (kinds never registered have none). */
export async function registeredKinds(cacheDir: string): Promise<Map<string, KindRoles>> {
  const out = new Map<string, KindRoles>();
  for (const kind of await readdir(join(cacheDir, KINDS_DIR)).catch(() => [] as string[])) {
    if (kind.startsWith('.')) continue;
    const roles = await readRecordFile<KindRoles>(cacheDir, KINDS_DIR, kind);
    if (roles) out.set(kind, { holdsContent: roles.holdsContent === true, buildCache: roles.buildCache === true });
  }
  return out;
}

/**
 * `holds`, when there, is lists (of digests: what is not one holds nothing). The rest of
 * a record is its kind's business.
 */
export function isHoldingRecord(v: Record<string, unknown>): boolean {
  const holds = v.holds;
  if (holds === undefined) return true;
  if (!isJsonObject(holds)) return false;
  return [holds.blobs, holds.snapshots].every((list) => list === undefined || Array.isArray(list));
}
