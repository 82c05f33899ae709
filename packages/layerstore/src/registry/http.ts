/**
 * One HTTP exchange with a registry, on node:http/https (not fetch: Node 20's fetch takes
 * no CA list without importing undici, which is not a dependency, and its redirect and
 * body handling would have to be re-done by hand anyway).
 *
 * - Keep-alive agents per client; https trusts the roots from tls.ts.
 * - Redirects (GET/HEAD only, at most 10) pass `checkRedirect` (net-policy.ts); the
 *   `authorization` value is sent only while the URL stays on the first request's origin.
 * - A socket idle for `timeoutMs` fails the exchange (while waiting and while reading).
 * - Bodies read whole are capped (`readCapped`); an error body is read up to 1 MiB.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { Readable } from 'node:stream';
import { RegistryError } from './errors.js';
import { checkRedirect, sameOrigin } from './net-policy.js';
import { trustedCertificates } from './tls.js';

export interface HttpRequest {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  /** The Authorization header value; sent only to `url`'s origin, never after a redirect away from it. */
  authorization?: string;
  body?: Buffer | Readable;
  signal?: AbortSignal;
  /** Follow redirects (only for GET and HEAD). */
  followRedirects?: boolean;
  /** Names the registry in errors. */
  registry: string;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  /** Where the response came from (after redirects). */
  url: URL;
}

export interface HttpOptions {
  env: NodeJS.ProcessEnv;
  userAgent: string;
  timeoutMs: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;
export const MAX_ERROR_BODY = 1024 * 1024;

export class HttpTransport {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  private httpsAgent: https.Agent | undefined;

  constructor(private readonly opts: HttpOptions) {}

  async send(req: HttpRequest): Promise<HttpResponse> {
    const origin = req.url;
    let url = req.url;
    const follow = req.followRedirects === true && (req.method === 'GET' || req.method === 'HEAD');
    for (let hop = 0; ; hop++) {
      const res = await this.exchange(req, url, hop === 0 ? req.body : undefined, sameOrigin(url, origin) ? req.authorization : undefined);
      const location = res.headers.location;
      if (!follow || !REDIRECTS.has(res.statusCode ?? 0) || location === undefined) {
        return { status: res.statusCode ?? 0, headers: res.headers, body: res, url };
      }
      res.resume();
      if (hop >= MAX_REDIRECTS) throw new RegistryError('TSBUILD_REGISTRY_ERROR', `more than ${MAX_REDIRECTS} redirects from ${origin.host}`, { registry: req.registry });
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new RegistryError('TSBUILD_REGISTRY_ERROR', `${url.host} redirected to an invalid location`, { registry: req.registry });
      }
      checkRedirect(origin, url, next, req.registry);
      url = next;
    }
  }

  /**
   * Does `host` (host[:port], default port 443) speak TLS? A bare handshake with no trust
   * roots and no verification, closed at once: it only tells the protocol apart, cheaply
   * (for `auto` endpoints; the real connection is then made and verified as usual).
   */
  probeTls(host: string, signal?: AbortSignal): Promise<boolean> {
    const url = new URL(`https://${host}`);
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: hostname, port: Number(url.port || 443), rejectUnauthorized: false, ca: [], ...(isIP(hostname) ? {} : { servername: hostname }) });
      const done = (fn: () => void) => {
        socket.destroy();
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => done(() => reject(signal!.reason));
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.setTimeout(this.opts.timeoutMs, () => done(() => reject(Object.assign(new Error(`no answer from ${host} for ${this.opts.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' }))));
      socket.once('secureConnect', () => done(() => resolve(true)));
      socket.once('error', (err) => done(() => (isPlainHttpAnswer(err) ? resolve(false) : reject(err))));
    });
  }

  /** Drop idle keep-alive connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent?.destroy();
  }

  private exchange(req: HttpRequest, url: URL, body: Buffer | Readable | undefined, authorization: string | undefined): Promise<IncomingMessage> {
    const secure = url.protocol === 'https:';
    const headers: Record<string, string> = { 'User-Agent': this.opts.userAgent, ...req.headers };
    if (authorization !== undefined) headers.Authorization = authorization;
    if (Buffer.isBuffer(body)) headers['Content-Length'] = String(body.length);
    else if (body === undefined && (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH')) headers['Content-Length'] ??= '0';
    return new Promise((resolve, reject) => {
      const request = (secure ? https : http).request(url, {
        method: req.method,
        headers,
        agent: secure ? this.tlsAgent() : this.httpAgent,
        ...(req.signal ? { signal: req.signal } : {}),
      });
      request.setTimeout(this.opts.timeoutMs, () => {
        const err = Object.assign(new Error(`no data from ${url.host} for ${this.opts.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' });
        request.destroy(err);
      });
      request.once('error', reject);
      if (body === undefined || Buffer.isBuffer(body)) {
        request.once('response', resolve);
        request.end(body);
      } else {
        body.once('error', (err) => request.destroy(err));
        body.pipe(request);
        request.once('response', (res) => {
          // An answer before the whole body was sent (401, 413...): stop reading the source.
          if (!body.readableEnded) {
            body.unpipe(request);
            body.destroy();
          }
          resolve(res);
        });
      }
    });
  }

  private tlsAgent(): https.Agent {
    this.httpsAgent ??= new https.Agent({ keepAlive: true, maxSockets: 32, ca: trustedCertificates(this.opts.env) });
    return this.httpsAgent;
  }
}

/** Read a whole body, failing as soon as it passes `max` bytes (before any parsing). */
export async function readCapped(res: HttpResponse, max: number, what: string, registry: string): Promise<Buffer> {
  const tooLarge = (n: string) => {
    res.body.destroy();
    return new RegistryError('TSBUILD_REGISTRY_TOO_LARGE', `${what} from ${res.url.host} is ${n} bytes, more than the ${max} allowed`, { registry });
  };
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) throw tooLarge(String(declared));
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body) {
    total += (chunk as Buffer).length;
    if (total > max) throw tooLarge(`more than ${max}`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

/** Throw away a response body we do not need (small ones keep the connection alive). */
export function discard(res: HttpResponse): void {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared <= 64 * 1024) res.body.resume();
  else res.body.destroy();
}

/** The registry's error text (`CODE: message; ...` from the distribution error JSON), body capped at 1 MiB. */
export async function errorText(res: HttpResponse): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body) {
      chunks.push(chunk as Buffer);
      total += (chunk as Buffer).length;
      if (total >= MAX_ERROR_BODY) {
        res.body.destroy();
        break;
      }
    }
  } catch {
    // Whatever arrived is enough for a message.
  }
  const text = Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString('utf8');
  try {
    const doc = JSON.parse(text) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const parts = (doc.errors ?? []).map((e) => [e.code, e.message].filter((x) => typeof x === 'string' && x !== '').join(': ')).filter((s) => s !== '');
    if (parts.length > 0) return clip(parts.join('; '));
  } catch {
    // Not JSON.
  }
  return clip(text.replace(/\s+/g, ' ').trim());
}

function clip(s: string): string {
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}

/** Errors worth another attempt: connection refused/reset/timed out, DNS hiccups, bodies cut short. */
export function isTransientNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET', 'ERR_HTTP_PARSER', 'HPE_INVALID_CHUNK_SIZE'].includes(code)) return true;
  return /socket hang up|aborted|premature close/i.test(err.message);
}

/** An https attempt that met a plain-HTTP server. */
export function isPlainHttpAnswer(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long|http request/i.test(err.message);
}

export function networkDetail(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
}
