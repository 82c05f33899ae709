/**
 * The build cache: `cache/steps/<key>` records what a layer step produced for a key
 * (its layer blob, diff_id and snapshot), and holds them for prune (a kind registered
 * as holding content), so
 * a rebuild with the same inputs reuses the layer instead of running the step.
 * `cache/positions/<hash of Dockerfile, stage, step>` keeps the inputs last seen at a
 * step, so a miss can say what changed.
 */
import { createHash } from 'node:crypto';
import { chainIds, ensureSnapshots, type Descriptor, type Digest, type HoldingRecord, type RecordStore, type Store } from '@tsbuild/layerstore';
import { cacheKey, firstDifference } from './cache-key.js';
import { isPositionRecord, isStepRecord } from './cache-records.js';
import type { LayerRef, StageState } from './state.js';

interface StepRecord extends HoldingRecord {
  /** When the build that made the layer started: a build whose steps all come from the cache takes it (build-time.ts). */
  created: string;
  diffId: Digest;
  descriptor: Descriptor;
  createdBy: string;
  inputs: Record<string, unknown>;
}

interface PositionRecord {
  key: Digest;
  inputs: Record<string, unknown>;
}

export interface CacheHit {
  layer: LayerRef;
  createdBy: string;
  created: string;
}

export class BuildCache {
  /** Keys this build recorded (a build that fails on bad input takes them back). */
  private readonly saved = new Set<Digest>();
  /** Positions this build wrote, with what they held before. */
  private readonly positionsBefore = new Map<string, PositionRecord | undefined>();

  private readonly steps: RecordStore<StepRecord>;
  private readonly positions: RecordStore<PositionRecord>;

  constructor(private readonly store: Store, private readonly opts: { useCache: boolean }) {
    this.steps = store.records<StepRecord>('steps', { valid: isStepRecord, holdsContent: true, buildCache: true });
    this.positions = store.records<PositionRecord>('positions', { valid: isPositionRecord, buildCache: true });
  }

  /** Remove the records this build wrote (before rolling its blobs back). */
  async forgetSaved(): Promise<void> {
    for (const key of this.saved) await this.steps.delete(key.slice(7));
    this.saved.clear();
    for (const [pk, before] of this.positionsBefore) {
      if (before) await this.positions.put(pk, before);
      else await this.positions.delete(pk);
    }
    this.positionsBefore.clear();
  }

  /** The cached result of `key` over `state`'s layers, if it is usable. */
  async lookup(key: Digest, state: StageState): Promise<CacheHit | undefined> {
    if (!this.opts.useCache) return undefined;
    const rec = await this.steps.get(key.slice(7));
    if (!rec) return undefined;
    if ((await this.store.blobs.size(rec.descriptor.digest)) !== rec.descriptor.size) return undefined;
    const descs = [...state.layers.map((l) => l.descriptor), rec.descriptor];
    const diffIds = [...state.config.rootfs.diff_ids, rec.diffId];
    // The snapshot is normally kept (the record holds it); unpack it if it is gone.
    const snapshots = await ensureSnapshots(this.store, descs, diffIds).catch(() => undefined);
    if (!snapshots) return undefined;
    return { layer: { descriptor: rec.descriptor, diffId: rec.diffId, snapshot: snapshots[snapshots.length - 1]! }, createdBy: rec.createdBy, created: rec.created };
  }

  async save(key: Digest, state: StageState, layer: LayerRef, createdBy: string, created: string, inputs: Record<string, unknown>): Promise<void> {
    const chain = chainIds([...state.config.rootfs.diff_ids, layer.diffId]).at(-1)!;
    const rec: StepRecord = {
      created,
      diffId: layer.diffId,
      descriptor: layer.descriptor,
      createdBy,
      inputs,
      holds: { blobs: [...new Set([layer.descriptor.digest, layer.diffId])], snapshots: [chain] },
    };
    await this.steps.put(key.slice(7), rec);
    this.saved.add(key);
  }

  /** Why `key` misses at this position, compared with the inputs last seen there. */
  async explainMiss(position: string, key: Digest, inputs: Record<string, unknown>): Promise<string | undefined> {
    const last = await this.positions.get(positionKey(position));
    if (!last || last.key === key) return undefined;
    return firstDifference(last.inputs, inputs) ?? 'an earlier step changed';
  }

  /** After a step succeeded: these are the inputs last seen at its position. */
  async remember(position: string, key: Digest, inputs: Record<string, unknown>): Promise<void> {
    const pk = positionKey(position);
    if (!this.positionsBefore.has(pk)) this.positionsBefore.set(pk, await this.positions.get(pk));
    await this.positions.put(pk, { key, inputs });
  }
}

/** What a layer step's cache needs from its build. */
export interface StepCache {
  cache: BuildCache;
  /** Dockerfile, stage and step index: where explanations of misses are kept. */
  position: string;
  /** Called when the step's result comes from the cache, with the time its record keeps. */
  onHit(created: string): void;
  /** Called with what changed when it does not (and an earlier build ran this step). */
  onMiss(reason: string): void;
  /** Called when the step made its layer; returns the time its cache record keeps. */
  made(): string;
}

/**
 * Reuse the layer cached for `inputs` over `state`, or produce it and remember it.
 * Returns the layer, its history text, and the key (the new state's cache key).
 * History times are not the step's business: the build stamps them at the end.
 */
export async function cachedLayer(
  state: StageState,
  sc: StepCache,
  inputs: Record<string, unknown>,
  createdBy: string,
  produce: () => Promise<LayerRef>,
): Promise<{ key: Digest; layer: LayerRef; createdBy: string }> {
  const key = cacheKey(state.cacheKey, inputs);
  const hit = await sc.cache.lookup(key, state);
  if (hit) {
    sc.onHit(hit.created);
    await sc.cache.remember(sc.position, key, inputs);
    return { key, layer: hit.layer, createdBy: hit.createdBy };
  }
  const reason = await sc.cache.explainMiss(sc.position, key, inputs);
  if (reason) sc.onMiss(reason);
  const layer = await produce();
  await sc.cache.save(key, state, layer, createdBy, sc.made(), inputs);
  await sc.cache.remember(sc.position, key, inputs);
  return { key, layer, createdBy };
}

function positionKey(position: string): string {
  return createHash('sha256').update(position).digest('hex');
}
