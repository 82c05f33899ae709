/**
 * When and how long to wait before trying a registry request again:
 * statuses 408, 429, 499, 500, 502, 503, 504, 522 and dropped or refused connections are
 * retried with exponential backoff (base x factor^n, +-10 % jitter, capped), honouring
 * `Retry-After` (seconds or an HTTP date) up to `maxRetryAfterMs`; a longer wait is an
 * error at once. Other statuses are never retried.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  factor: number;
  maxDelayMs: number;
  /** The longest Retry-After we are willing to wait. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, factor: 2, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 };

export const RETRY_STATUSES = new Set([408, 429, 499, 500, 502, 503, 504, 522]);

/** The wait before attempt `attempt + 1` (attempt counts from 1). */
export function backoff(policy: RetryPolicy, attempt: number): number {
  const base = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** (attempt - 1));
  return Math.round(base * (0.9 + Math.random() * 0.2));
}

/** Milliseconds asked for by a Retry-After header, or undefined when absent or unparsable. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export async function wait(ms: number, signal?: AbortSignal): Promise<void> {
  await sleep(ms, undefined, signal ? { signal } : {});
}
