/**
 * One HTTP exchange with a registry, on node:http/https (not fetch: Node 20's fetch takes
 * no CA list without importing undici, which is not a dependency, and its redirect and
 * body handling would have to be re-done by hand anyway).
 *
 * - Keep-alive agents per client; https trusts the roots from tls.ts.
 * - Redirects (GET/HEAD only, at most 10) pass `checkRedirect` (net-policy.ts); the
 *   `authorization` value is sent only while the URL stays on the first request's origin.
 * - A socket idle for `timeoutMs` fails the exchange (while waiting and while reading),
 *   with a NetworkError (ETIMEDOUT) the session retries like Node's own socket errors.
 * - Bodies read whole are capped (`readCapped`); an error body is read up to 1 MiB.
 * - HTTP_PROXY / HTTPS_PROXY / NO_PROXY from `env` (proxy.ts) are applied to each hop's
 *   URL: https through a CONNECT tunnel, http in absolute form to the proxy (tunnel.ts);
 *   a 407 from the proxy is TSBUILD_PROXY_REFUSED. `probeTls` goes through the tunnel too.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { Readable } from 'node:stream';
import { isJsonObject, parseJson } from '../image/json.js';
import { NetworkError, RegistryError } from './errors.js';
import { checkRedirect, sameOrigin } from './net-policy.js';
import { ProxyRules, type Proxy } from './proxy.js';
import { trustedCertificates } from './tls.js';
import { ForwardAgent, openTunnel, proxyRefused, ROUTE, TunnelAgent, type Route, type TunnelOptions } from './tunnel.js';

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
  private readonly proxyAgents = new Map<string, TunnelAgent | ForwardAgent>();
  private readonly proxies: ProxyRules;
  private roots: string[] | undefined;

  constructor(private readonly opts: HttpOptions) {
    this.proxies = new ProxyRules(opts.env);
  }

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
  async probeTls(host: string, opts: { signal?: AbortSignal; registry?: string } = {}): Promise<boolean> {
    const { signal, registry = host } = opts;
    const url = new URL(`https://${host}`);
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || 443);
    const proxy = this.proxies.forUrl(url, registry);
    const tunnel = proxy && (await openTunnel(proxy, hostname, port, { ...this.tunnelOptions(), registry, target: host, ...(signal ? { signal } : {}) }));
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ ...(tunnel ? { socket: tunnel } : { host: hostname, port }), rejectUnauthorized: false, ca: [], ...(isIP(hostname) ? {} : { servername: hostname }) });
      const done = (fn: () => void) => {
        socket.destroy();
        tunnel?.destroy();
        signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => done(() => reject(signal!.reason));
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.setTimeout(this.opts.timeoutMs, () => done(() => reject(new NetworkError(`no answer from ${host} for ${this.opts.timeoutMs / 1000} s`, 'ETIMEDOUT'))));
      socket.once('secureConnect', () => done(() => resolve(true)));
      socket.once('error', (err) => done(() => (isPlainHttpAnswer(err) ? resolve(false) : reject(err))));
    });
  }

  /** Drop idle keep-alive connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent?.destroy();
    for (const agent of this.proxyAgents.values()) agent.destroy();
    this.proxyAgents.clear();
  }

  private exchange(req: HttpRequest, url: URL, body: Buffer | Readable | undefined, authorization: string | undefined): Promise<IncomingMessage> {
    const secure = url.protocol === 'https:';
    const headers: Record<string, string> = { 'User-Agent': this.opts.userAgent, ...req.headers };
    if (authorization !== undefined) headers.Authorization = authorization;
    if (Buffer.isBuffer(body)) headers['Content-Length'] = String(body.length);
    else if (body === undefined && (req.method === 'PUT' || req.method === 'POST' || req.method === 'PATCH')) headers['Content-Length'] ??= '0';
    const proxy = this.proxies.forUrl(url, req.registry);
    const route: Route = { registry: req.registry, target: url.host, ...(req.signal ? { signal: req.signal } : {}) };
    return new Promise((resolve, reject) => {
      const common = { method: req.method, ...(req.signal ? { signal: req.signal } : {}) };
      const proxied = { ...common, [ROUTE]: route };
      let request: http.ClientRequest;
      if (proxy === undefined) {
        request = (secure ? https : http).request(url, { ...common, headers, agent: secure ? this.tlsAgent() : this.httpAgent });
      } else if (secure) {
        request = https.request(url, { ...proxied, headers, agent: this.proxyAgent(proxy, 'tunnel') });
      } else {
        // Absolute form to the proxy, as Go does for http targets.
        const via = { ...headers, Host: url.host, ...(proxy.authorization !== undefined ? { 'Proxy-Authorization': proxy.authorization } : {}) };
        request = http.request({ ...proxied, host: proxy.hostname, port: proxy.port, path: url.href, headers: via, agent: this.proxyAgent(proxy, 'forward') });
      }
      request.setTimeout(this.opts.timeoutMs, () => {
        request.destroy(new NetworkError(`no data from ${url.host} for ${this.opts.timeoutMs / 1000} s`, 'ETIMEDOUT'));
      });
      request.once('error', reject);
      const answered = (res: IncomingMessage) => {
        // Through a proxy in absolute form, a 407 is the proxy's, not the registry's.
        if (proxy === undefined || secure || res.statusCode !== 407) return resolve(res);
        res.resume();
        reject(proxyRefused(proxy, 407, res.statusMessage ?? '', `${req.method} ${url.href}`, req.registry));
      };
      if (body === undefined || Buffer.isBuffer(body)) {
        request.once('response', answered);
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
          answered(res);
        });
      }
    });
  }

  private tlsAgent(): https.Agent {
    this.httpsAgent ??= new https.Agent({ keepAlive: true, maxSockets: 32, ca: this.ca() });
    return this.httpsAgent;
  }

  /** One agent per proxy (and credentials) and kind; read at the first request that needs it. */
  private proxyAgent(proxy: Proxy, kind: 'tunnel' | 'forward'): TunnelAgent | ForwardAgent {
    const key = `${kind} ${proxy.key}`;
    let agent = this.proxyAgents.get(key);
    if (!agent) this.proxyAgents.set(key, (agent = kind === 'tunnel' ? new TunnelAgent(proxy, this.tunnelOptions()) : new ForwardAgent(proxy, this.tunnelOptions())));
    return agent;
  }

  private tunnelOptions(): TunnelOptions {
    return { timeoutMs: this.opts.timeoutMs, userAgent: this.opts.userAgent, ca: this.ca() };
  }

  private ca(): string[] {
    this.roots ??= trustedCertificates(this.opts.env);
    return this.roots;
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
  // The registry's `{"errors": [{"code": ..., "message": ...}]}`, else the text as it is.
  const doc = (() => {
    try {
      return parseJson(text, 'error body');
    } catch {
      return undefined;
    }
  })();
  const errors = isJsonObject(doc) && Array.isArray(doc.errors) ? doc.errors.filter(isJsonObject) : [];
  const parts = errors.map((e) => [e.code, e.message].filter((x) => typeof x === 'string' && x !== '').join(': ')).filter((s) => s !== '');
  if (parts.length > 0) return clip(parts.join('; '));
  return clip(text.replace(/\s+/g, ' ').trim());
}

function clip(s: string): string {
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}

/** The socket's code of a network error: a NetworkError's `errno`, else Node's `code`. */
function errnoOf(err: Error): string {
  return (err instanceof NetworkError ? err.errno : (err as NodeJS.ErrnoException).code) ?? '';
}

/** Errors worth another attempt: connection refused/reset/timed out, DNS hiccups, bodies cut short. */
export function isTransientNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = errnoOf(err);
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET', 'ERR_HTTP_PARSER', 'HPE_INVALID_CHUNK_SIZE'].includes(code)) return true;
  return /socket hang up|aborted|premature close/i.test(err.message);
}

/** An https attempt that met a plain-HTTP server. */
export function isPlainHttpAnswer(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = errnoOf(err);
  return code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long|http request/i.test(err.message);
}

/**
 * A network error for a message. With `host` (the `host:port` the message already names),
 * Node's ` 127.0.0.1:5000` after the code is left out when it is that same address.
 */
export function networkDetail(err: unknown, host?: string): string {
  if (!(err instanceof Error)) return String(err);
  const { address, port } = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const code = errnoOf(err);
  let message = err.message;
  if (host !== undefined && address !== undefined && port !== undefined) {
    const named = [`${address}:${port}`, `[${address}]:${port}`].find((a) => a === host);
    if (named && message.endsWith(` ${address}:${port}`)) message = message.slice(0, -` ${address}:${port}`.length);
  }
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
