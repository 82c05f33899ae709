/**
 * The distribution token flow: parse `WWW-Authenticate` challenges, and exchange
 * credentials for a bearer token at the challenge's realm.
 *
 *   GET  realm?service=S&scope=repository:NAME:pull&scope=...   (Basic user:password, or anonymous)
 *   POST realm  grant_type=refresh_token&refresh_token=...       (an identity token)
 *
 * The answer (`token` or `access_token`, `expires_in`, default 60 s) is read up to 1 MiB
 * Transient failures are retried like registry requests.
 */
import { isJsonObject, parseJson } from '../image/json.js';
import type { Credentials } from './credentials.js';
import { isAbort, RegistryError } from './errors.js';
import { discard, errorText, isTransientNetworkError, networkDetail, readCapped, type HttpResponse, type HttpTransport } from './http.js';
import { backoff, RETRY_STATUSES, retryAfterMs, wait, type RetryPolicy } from './retry.js';

export interface Challenge {
  /** Lower case: `bearer`, `basic`. */
  scheme: string;
  params: Record<string, string>;
}

export const MAX_TOKEN_BODY = 1024 * 1024;

const TOKEN = /[A-Za-z0-9!#$%&'*+.^_`|~-]+/y;

/** Parse one or more challenges (RFC 7235): `Bearer realm="...",service="...", Basic realm="x"`. */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const out: Challenge[] = [];
  for (const text of Array.isArray(header) ? header : header === undefined ? [] : [header]) {
    let pos = 0;
    const token = (): string | undefined => {
      TOKEN.lastIndex = pos;
      const m = TOKEN.exec(text);
      if (!m) return undefined;
      pos = TOKEN.lastIndex;
      return m[0];
    };
    const skip = (chars: RegExp) => {
      while (pos < text.length && chars.test(text[pos]!)) pos++;
    };
    while (pos < text.length) {
      skip(/[\s,]/);
      const scheme = token();
      if (scheme === undefined) break;
      const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
      out.push(challenge);
      for (;;) {
        skip(/\s/);
        const save = pos;
        const name = token();
        skip(/\s/);
        if (name === undefined || text[pos] !== '=') {
          pos = save;
          break;
        }
        pos++;
        skip(/\s/);
        let value = '';
        if (text[pos] === '"') {
          pos++;
          while (pos < text.length && text[pos] !== '"') {
            if (text[pos] === '\\') pos++;
            value += text[pos] ?? '';
            pos++;
          }
          pos++;
        } else value = token() ?? '';
        challenge.params[name.toLowerCase()] = value;
        skip(/\s/);
        if (text[pos] !== ',') break;
        pos++;
      }
    }
  }
  return out;
}

export interface TokenRequest {
  realm: URL;
  service: string | undefined;
  scopes: string[];
  creds: Credentials | undefined;
  registry: string;
  signal: AbortSignal | undefined;
}

export interface Token {
  value: string;
  /** ms since the epoch, with a margin. */
  expiresAt: number;
}

export async function fetchToken(http: HttpTransport, policy: RetryPolicy, req: TokenRequest, onRetry: (attempt: number, delayMs: number, reason: string) => void): Promise<Token> {
  const where = `token server ${req.realm.host}`;
  const fail = (code: 'TSBUILD_REGISTRY_AUTH' | 'TSBUILD_REGISTRY_ERROR' | 'TSBUILD_REGISTRY_UNAVAILABLE', msg: string, status?: number, cause?: unknown) =>
    new RegistryError(code, msg, { registry: req.registry, ...(status !== undefined ? { status } : {}), ...(cause !== undefined ? { cause } : {}) });
  for (let attempt = 1; ; attempt++) {
    let res: HttpResponse;
    try {
      res = await http.send(tokenHttpRequest(req));
    } catch (err) {
      if (isAbort(err) || err instanceof RegistryError) throw err;
      if (isTransientNetworkError(err) && attempt < policy.attempts) {
        const delay = backoff(policy, attempt);
        onRetry(attempt, delay, networkDetail(err));
        await wait(delay, req.signal);
        continue;
      }
      throw fail('TSBUILD_REGISTRY_UNAVAILABLE', `cannot reach ${where}: ${networkDetail(err)}`, undefined, err);
    }
    if (RETRY_STATUSES.has(res.status) && attempt < policy.attempts) {
      const delay = retryAfterMs(res.headers['retry-after']) ?? backoff(policy, attempt);
      discard(res);
      if (delay > policy.maxRetryAfterMs) throw fail('TSBUILD_REGISTRY_UNAVAILABLE', `${where} answered ${res.status} and asks to wait ${Math.round(delay / 1000)} s`, res.status);
      onRetry(attempt, delay, `status ${res.status}`);
      await wait(delay, req.signal);
      continue;
    }
    if (res.status === 401 || res.status === 403) {
      const who = req.creds?.username ? `the username or password for ${req.creds.username}` : req.creds?.identityToken ? 'the identity token' : 'anonymous access';
      throw fail('TSBUILD_REGISTRY_AUTH', `${where} refused ${who} (${res.status}: ${await errorText(res)})`, res.status);
    }
    if (res.status !== 200) {
      const code = RETRY_STATUSES.has(res.status) ? 'TSBUILD_REGISTRY_UNAVAILABLE' : 'TSBUILD_REGISTRY_ERROR';
      throw fail(code, `${where} answered ${res.status}: ${await errorText(res)}`, res.status);
    }
    const body = await readCapped(res, MAX_TOKEN_BODY, 'token response', req.registry);
    let doc: unknown;
    try {
      doc = parseJson(body, 'token response');
    } catch {
      throw fail('TSBUILD_REGISTRY_ERROR', `${where} did not answer with JSON`);
    }
    if (!isJsonObject(doc)) throw fail('TSBUILD_REGISTRY_ERROR', `${where} did not answer with a JSON object`);
    const value = typeof doc.token === 'string' && doc.token !== '' ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : '';
    if (value === '') throw fail('TSBUILD_REGISTRY_ERROR', `${where} sent no token`);
    const seconds = typeof doc.expires_in === 'number' && doc.expires_in >= 60 ? doc.expires_in : 60;
    return { value, expiresAt: Date.now() + seconds * 900 };
  }
}

function tokenHttpRequest(req: TokenRequest): Parameters<HttpTransport['send']>[0] {
  const base = { url: new URL(req.realm), registry: req.registry, followRedirects: true, ...(req.signal ? { signal: req.signal } : {}) };
  if (req.creds?.identityToken) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: req.creds.identityToken, client_id: 'tsbuild' });
    if (req.service) form.set('service', req.service);
    if (req.scopes.length > 0) form.set('scope', req.scopes.join(' '));
    return { ...base, method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()) };
  }
  for (const s of req.scopes) base.url.searchParams.append('scope', s);
  if (req.service) base.url.searchParams.set('service', req.service);
  if (req.creds?.username) base.url.searchParams.set('account', req.creds.username);
  const authorization = req.creds?.username !== undefined && req.creds.password !== undefined ? `Basic ${Buffer.from(`${req.creds.username}:${req.creds.password}`).toString('base64')}` : undefined;
  return { ...base, method: 'GET', ...(authorization ? { authorization } : {}) };
}
