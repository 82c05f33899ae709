/**
 * The time a build stamps on what it adds, as BuildKit does: every history entry the
 * build adds gets one time, and the image's `created` is that time; history entries of
 * the base image keep theirs. The time is
 *
 *   SOURCE_DATE_EPOCH, when set;
 *   else the build's start, when any layer step ran in this build;
 *   else (every layer step came from the cache) the time of the newest cached step, so an
 *     unchanged rebuild gives the same image ID (each cache record keeps the time of the
 *     build that made it, as BuildKit's cache records their creation time);
 *   else (the build adds no layer at all) the base image's newest history time, as
 *     BuildKit's exporter does for an image of metadata steps only; else the start.
 *
 * Steps leave `created` out of the history entries they add; `stampHistory` fills it in
 * at the end, when the time is known.
 */
import type { ImageConfig } from '@tsbuild/layerstore';

export class BuildClock {
  /** The build's start (or SOURCE_DATE_EPOCH): what a layer made by this build is recorded with. */
  readonly start: string;
  private ran = false;
  private newestHit: string | undefined;

  constructor(private readonly sourceDateEpoch?: number, now: Date = new Date()) {
    this.start = sourceDateEpoch !== undefined ? epochTime(sourceDateEpoch) : now.toISOString();
  }

  /** A layer step ran: its layer is this build's. */
  made(): string {
    this.ran = true;
    return this.start;
  }

  /** A layer step's result came from the cache, made at `created`. */
  cached(created: string): void {
    if (!Number.isNaN(Date.parse(created)) && (this.newestHit === undefined || Date.parse(created) > Date.parse(this.newestHit))) this.newestHit = created;
  }

  /** The time of everything this build added to `config` (its base's history as the last resort). */
  time(config: ImageConfig): string {
    if (this.sourceDateEpoch !== undefined || this.ran) return this.start;
    return this.newestHit ?? baseTime(config) ?? this.start;
  }
}

/** `config` with every history entry that has no time stamped `time`, and `created` = `time`. */
export function stampHistory(config: ImageConfig, time: string): ImageConfig {
  return { ...config, created: time, ...(config.history ? { history: config.history.map((h) => (h.created === undefined ? { ...h, created: time } : h)) } : {}) };
}

/** SOURCE_DATE_EPOCH as an RFC 3339 time, whole seconds. */
export function epochTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

function baseTime(config: ImageConfig): string | undefined {
  const dated = (config.history ?? []).map((h) => h.created).filter((c): c is string => c !== undefined);
  return dated.at(-1) ?? config.created;
}
