/**
 * A session with one repository on one endpoint, for some scopes
 * (`repository:NAME:pull` or `pull,push`, plus `pull` on mount sources). It turns a
 * request into a response, handling on the way:
 *
 *   scheme   `auto` endpoints (loopback) try https, then plain http if the server speaks it
 *   auth     nothing until the host challenges (401); then Basic with the stored credentials,
 *            or a bearer token per scope set, cached per host and reused by every session
 *            with the same scopes until it expires; a 401 with a token gets one fresh token
 *   retries  transient network errors and 408/429/5xx (retry.ts); Retry-After honoured
 *
 * Credentials are only attached to the endpoint's own origin (see net-policy.ts); a 401
 * from anywhere else (after a redirect) is an error, not a reason to send them there.
 */
import type { Readable } from 'node:stream';
import { LayerstoreError, type LayerstoreErrorCode } from '../errors.js';
import { fetchToken, parseChallenges, type Challenge, type Token } from './auth.js';
import type { Credentials } from './credentials.js';
import { describe, type Endpoint } from './endpoints.js';
import { isAbort, NetworkError, RegistryError } from './errors.js';
import type { EventSink } from './events.js';
import { discard, errorText, isPlainHttpAnswer, isTransientNetworkError, networkDetail, type HttpResponse, type HttpTransport } from './http.js';
import { sameOrigin, validateRealm } from './net-policy.js';
import { backoff, RETRY_STATUSES, retryAfterMs, wait, type RetryPolicy } from './retry.js';

/** What a client knows about a host, shared by its sessions. */
export interface HostState {
  /** For `auto` endpoints, once known. */
  scheme?: 'http' | 'https';
  probe?: Promise<boolean>;
  auth?: { type: 'basic' } | { type: 'bearer'; realm: URL; service: string | undefined };
  tokens: Map<string, Promise<Token>>;
  credentials?: Promise<Credentials | undefined>;
}

export interface ClientContext {
  http: HttpTransport;
  retry: RetryPolicy;
  emit: EventSink;
  host(host: string): HostState;
  credentialsFor(host: string): Promise<Credentials | undefined>;
}

export interface SessionRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** A path under `/v2/<repo>/` (`manifests/latest`), `/v2/` itself, or an absolute URL (upload locations). */
  url: string | URL;
  headers?: Record<string, string>;
  /** Called for every attempt, so retries get a fresh body. */
  body?: () => Buffer | Readable | Promise<Buffer | Readable>;
  /** Names the request in errors: `manifest latest`, `layer sha256:...`. */
  what: string;
  /** Default true: retry on transient failures. Off for requests whose body cannot be re-sent as is. */
  retry?: boolean;
}

export type SessionResponse = HttpResponse & { attempts: number };

export class RepoSession {
  readonly scopes: string[];

  constructor(
    private readonly ctx: ClientContext,
    readonly endpoint: Endpoint,
    readonly repo: string,
    scopes: string[],
    private readonly signal?: AbortSignal,
  ) {
    this.scopes = [...scopes];
  }

  get name(): string {
    return describe(this.endpoint);
  }

  get scheme(): 'http' | 'https' {
    return this.endpoint.scheme === 'auto' ? this.ctx.host(this.endpoint.host).scheme ?? 'https' : this.endpoint.scheme;
  }

  /** `<scheme>://<host>/v2/` */
  base(): URL {
    return new URL(`${this.scheme}://${this.endpoint.host}/v2/`);
  }

  url(path: string | URL): URL {
    if (path instanceof URL) return path;
    if (path.startsWith('/')) return new URL(path, this.base());
    return new URL(`/v2/${this.repo}/${path}`, this.base());
  }

  async request(req: SessionRequest): Promise<SessionResponse> {
    const policy = this.ctx.retry;
    let attempts = 0;
    let authRounds = 0;
    let sent: string | undefined;
    for (;;) {
      this.signal?.throwIfAborted();
      let res: HttpResponse;
      let url = this.url(req.url);
      try {
        await this.learnScheme();
        url = this.url(req.url);
        const authorization = sameOrigin(url, this.base()) ? await this.authorization() : undefined;
        sent = authorization;
        res = await this.ctx.http.send({
          method: req.method,
          url,
          ...(req.headers ? { headers: req.headers } : {}),
          ...(authorization !== undefined ? { authorization } : {}),
          ...(req.body ? { body: await req.body() } : {}),
          ...(this.signal ? { signal: this.signal } : {}),
          followRedirects: true,
          registry: this.endpoint.registry,
        });
      } catch (err) {
        // A typed error (the registry's answer, a blob the store cannot read whole) is final;
        // a network failure, Node's or the transport's NetworkError, is retried.
        if (isAbort(err) || this.signal?.aborted || (err instanceof LayerstoreError && !(err instanceof NetworkError))) throw err;
        if (this.endpoint.scheme === 'auto' && url.protocol === 'https:' && sameOrigin(url, this.base()) && isPlainHttpAnswer(err)) {
          this.ctx.host(this.endpoint.host).scheme = 'http';
          continue;
        }
        attempts++;
        if (req.retry !== false && isTransientNetworkError(err) && attempts < policy.attempts) {
          await this.pause(req.what, attempts, backoff(policy, attempts), networkDetail(err));
          continue;
        }
        const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
        throw new RegistryError('TSBUILD_REGISTRY_UNAVAILABLE', `${req.what}: cannot reach ${this.name}: ${networkDetail(err, this.endpoint.host)}${tries}`, { registry: this.endpoint.registry, cause: err });
      }
      if (res.status === 401) {
        if (!sameOrigin(res.url, this.base())) {
          discard(res);
          throw this.error('TSBUILD_REGISTRY_AUTH', `${req.what}: ${this.name} redirected to ${res.url.host}, which asks for credentials; they are only sent to ${this.endpoint.host}`, 401);
        }
        const challenges = parseChallenges(res.headers['www-authenticate']);
        const text = await errorText(res);
        // Anonymous -> token; a refused (expired) token -> one fresh token; refused again: give up.
        if (authRounds >= 2) throw this.refused(sent, text, req.what);
        authRounds++;
        await this.answer(challenges, sent, text, req.what);
        continue;
      }
      if (RETRY_STATUSES.has(res.status) && req.retry !== false) {
        attempts++;
        if (attempts < policy.attempts) {
          const asked = retryAfterMs(res.headers['retry-after']);
          discard(res);
          if (asked !== undefined && asked > policy.maxRetryAfterMs) {
            throw this.error('TSBUILD_REGISTRY_UNAVAILABLE', `${req.what}: ${this.name} answered ${res.status} and asks to wait ${Math.round(asked / 1000)} s`, res.status);
          }
          await this.pause(req.what, attempts, asked ?? backoff(policy, attempts), `status ${res.status}${asked !== undefined ? ` (Retry-After ${asked / 1000} s)` : ''}`);
          continue;
        }
      }
      return Object.assign(res, { attempts: Math.max(1, attempts) });
    }
  }

  /** Throw a typed error unless the status is one of `ok` (the error body is read, capped). */
  async expect(res: SessionResponse, ok: number[], what: string, notFound: LayerstoreErrorCode = 'TSBUILD_REGISTRY_ERROR'): Promise<void> {
    if (ok.includes(res.status)) return;
    const text = res.body.readableEnded ? '' : await errorText(res);
    const detail = `${what}: ${this.name} answered ${res.status}${text ? `: ${text}` : ''}`;
    if (res.status === 401 || res.status === 403) throw this.error('TSBUILD_REGISTRY_AUTH', detail, res.status);
    if (res.status === 404) throw this.error(notFound, detail, res.status);
    if (RETRY_STATUSES.has(res.status)) throw this.error('TSBUILD_REGISTRY_UNAVAILABLE', `${detail}${res.attempts > 1 ? ` (${res.attempts} attempts)` : ''}`, res.status);
    throw this.error('TSBUILD_REGISTRY_ERROR', detail, res.status);
  }

  error(code: LayerstoreErrorCode, message: string, status?: number): RegistryError {
    return new RegistryError(code, message, { registry: this.endpoint.registry, ...(status !== undefined ? { status } : {}) });
  }

  /** For an `auto` endpoint: https or plain http? Asked once per host (a cheap TLS handshake). */
  private async learnScheme(): Promise<void> {
    if (this.endpoint.scheme !== 'auto') return;
    const state = this.ctx.host(this.endpoint.host);
    if (state.scheme !== undefined) return;
    state.probe ??= this.ctx.http.probeTls(this.endpoint.host, { ...(this.signal ? { signal: this.signal } : {}), registry: this.endpoint.registry });
    try {
      const secure = await state.probe;
      state.scheme ??= secure ? 'https' : 'http';
    } finally {
      state.probe = undefined;
    }
  }

  private async pause(what: string, attempt: number, delayMs: number, reason: string): Promise<void> {
    this.ctx.emit({ type: 'retry', endpoint: this.endpoint.host, what, attempt, delayMs, reason });
    await wait(delayMs, this.signal);
  }

  private async authorization(): Promise<string | undefined> {
    const state = this.ctx.host(this.endpoint.host);
    const auth = state.auth;
    if (auth === undefined) return undefined;
    if (auth.type === 'basic') {
      const creds = await this.ctx.credentialsFor(this.endpoint.host);
      return creds?.username !== undefined && creds.password !== undefined ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` : undefined;
    }
    const key = this.tokenKey(auth.realm, auth.service);
    let pending = state.tokens.get(key);
    const fresh = pending && (await pending.then((t) => t.expiresAt > Date.now(), () => false));
    if (!pending || !fresh) {
      pending = this.newToken(auth.realm, auth.service);
      state.tokens.set(key, pending);
      pending.catch(() => state.tokens.delete(key));
    }
    return `Bearer ${(await pending).value}`;
  }

  private tokenKey(realm: URL, service: string | undefined): string {
    return `${realm.href} ${service ?? ''} ${this.scopes.join(' ')}`;
  }

  private refused(sent: string | undefined, text: string, what: string): RegistryError {
    if (sent?.startsWith('Basic ')) return this.error('TSBUILD_REGISTRY_AUTH', `${what}: ${this.name} rejected the username or password (401: ${text})`, 401);
    if (sent?.startsWith('Bearer ')) return this.error('TSBUILD_REGISTRY_AUTH', `${what}: ${this.name} refused a fresh token for ${this.scopes.join(' ')} (401: ${text})`, 401);
    return this.error('TSBUILD_REGISTRY_AUTH', `${what}: ${this.name} asks for credentials (401: ${text})`, 401);
  }

  private async newToken(realm: URL, service: string | undefined): Promise<Token> {
    return fetchToken(
      this.ctx.http,
      this.ctx.retry,
      { realm, service, scopes: this.scopes, creds: await this.ctx.credentialsFor(this.endpoint.host), registry: this.endpoint.registry, signal: this.signal },
      (attempt, delayMs, reason) => this.ctx.emit({ type: 'retry', endpoint: realm.host, what: 'token', attempt, delayMs, reason }),
    );
  }

  /** Learn from a 401 how to authenticate; throws when there is nothing (more) to try. */
  private async answer(challenges: Challenge[], sent: string | undefined, text: string, what: string): Promise<void> {
    const state = this.ctx.host(this.endpoint.host);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    if (bearer) {
      const realm = validateRealm(bearer.params.realm ?? '', { host: this.endpoint.host, scheme: this.scheme }, this.endpoint.registry);
      const wanted = bearer.params.scope;
      if (wanted && /^repository:\S+$/.test(wanted) && !covered(wanted, this.scopes)) this.scopes.unshift(wanted);
      state.auth = { type: 'bearer', realm, service: bearer.params.service };
      // A token that was sent and refused (expired, revoked) is dropped; the next request fetches a new one.
      if (sent !== undefined) state.tokens.delete(this.tokenKey(realm, bearer.params.service));
      return;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      state.auth = { type: 'basic' };
      const creds = await this.ctx.credentialsFor(this.endpoint.host);
      if (creds?.username === undefined || creds.password === undefined) {
        throw this.error('TSBUILD_REGISTRY_AUTH', `${what}: ${this.name} requires a username and password and none are stored for ${this.endpoint.host} (tsbuild login ${this.endpoint.registry})`, 401);
      }
      if (sent?.startsWith('Basic ')) throw this.error('TSBUILD_REGISTRY_AUTH', `${what}: ${this.name} rejected the username or password of ${creds.username}`, 401);
      return;
    }
    throw this.error('TSBUILD_REGISTRY_AUTH', `${what}: ${this.name} answered 401 without a challenge tsbuild can answer (${text || 'no details'})`, 401);
  }
}

/** Is `scope` (`repository:NAME:pull`) already granted by one of `scopes` (`repository:NAME:pull,push`)? */
function covered(scope: string, scopes: string[]): boolean {
  const split = (s: string) => {
    const i = s.lastIndexOf(':');
    return { resource: s.slice(0, i), actions: new Set(s.slice(i + 1).split(',')) };
  };
  const want = split(scope);
  return scopes.some((s) => {
    const have = split(s);
    return have.resource === want.resource && [...want.actions].every((a) => have.actions.has(a) || have.actions.has('*'));
  });
}
