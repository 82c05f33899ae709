/** What pull and push share from their RegistryClient. */
import type { RegistryConfig } from './config.js';
import { describe, type Endpoint } from './endpoints.js';
import { isAbort, RegistryError } from './errors.js';
import type { EventSink } from './events.js';
import type { Limiter } from './limit.js';
import type { RetryPolicy } from './retry.js';
import { RepoSession, type ClientContext } from './session.js';

export interface Runtime {
  ctx: ClientContext;
  config: RegistryConfig;
  limiter: Limiter;
  emit: EventSink;
  retry: RetryPolicy;
  chunkSize: number;
  /** Short names already warned about (short-names.ts). */
  noted: Set<string>;
}

/** A session for `repo`; on a mirror with a namespace, the repository (and its scopes) under it. */
export function openSession(rt: Runtime, endpoint: Endpoint, repo: string, scopes: string[], signal?: AbortSignal): RepoSession {
  if (!endpoint.namespace || repo === '') return new RepoSession(rt.ctx, endpoint, repo, scopes, signal);
  const mapped = `${endpoint.namespace}/${repo}`;
  const own = `repository:${repo}:`;
  return new RepoSession(rt.ctx, endpoint, mapped, scopes.map((s) => (s.startsWith(own) ? `repository:${mapped}:${s.slice(own.length)}` : s)), signal);
}

/**
 * Try `fn` on each endpoint in order (mirrors, then the registry); the first success
 * wins. When all fail, the last error is thrown with the earlier ones in its message, each
 * endpoint named once (pullEndpoints lists each host once; a failure whose message already
 * names its endpoint, as the session's errors do, is not prefixed with it again).
 */
export async function firstEndpoint<T>(rt: Runtime, endpoints: Endpoint[], fn: (e: Endpoint) => Promise<T>): Promise<{ value: T; endpoint: Endpoint }> {
  const failures: string[] = [];
  for (let i = 0; i < endpoints.length; i++) {
    const endpoint = endpoints[i]!;
    try {
      return { value: await fn(endpoint), endpoint };
    } catch (err) {
      const last = i === endpoints.length - 1;
      if (isAbort(err) || !(err instanceof Error)) throw err;
      if (last) {
        if (failures.length === 0 || !(err instanceof RegistryError)) throw err;
        throw new RegistryError(err.code, `${err.message} (tried first: ${failures.join('; ')})`, { registry: err.registry, ...(err.status !== undefined ? { status: err.status } : {}), cause: err });
      }
      failures.push(namesEndpoint(err.message, describe(endpoint)) ? err.message : `${describe(endpoint)}: ${err.message}`);
      rt.emit({ type: 'fallback', endpoint: endpoint.host, next: describe(endpoints[i + 1]!), reason: err.message });
    }
  }
  // A bug, never a user's failure: pullEndpoints always ends with the registry itself.
  throw new Error('no endpoints');
}

/** Does `message` name `label` (`mirror 10.0.0.1:5000`) as a whole, not as part of a longer host, port or path? */
export function namesEndpoint(message: string, label: string): boolean {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\w.-])${escaped}(?![\\w/-]|[.:]\\w)`).test(message);
}

/** An AbortController that also aborts when `parent` does. */
export function childController(parent?: AbortSignal): AbortController {
  const c = new AbortController();
  if (parent?.aborted) c.abort(parent.reason);
  else parent?.addEventListener('abort', () => c.abort(parent.reason), { once: true });
  return c;
}
