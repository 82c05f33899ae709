/**
 * Connections through a forward proxy (proxy.ts decides which one), made as Go's net/http
 * makes them:
 *
 * - https targets: `CONNECT host:port HTTP/1.1` with Host and Proxy-Authorization, then TLS
 *   to the registry inside the tunnel, verified against the registry's name with the same
 *   roots as a direct connection. The registry's Authorization header only ever travels
 *   inside that TLS session.
 * - http targets: http.ts sends the requests to the proxy in absolute form
 *   (`GET http://host:port/v2/...`) with Proxy-Authorization; ForwardAgent only opens the
 *   connection to the proxy.
 * - An https:// proxy is itself spoken to over TLS (same roots).
 *
 * Both agents keep connections alive like the direct ones: Agent subclasses whose
 * `createConnection(options, callback)` connects asynchronously and calls back (Node's
 * Agent adopts the socket then, as for its own connections). A tunnel's pool key is its
 * target, so it only ever carries requests for its own registry.
 *
 * Until a connection is set up, a failure names the proxy ("cannot reach proxy
 * 10.0.0.1:3128 for registry.example:443: connect ECONNREFUSED ...") and is a NetworkError
 * keeping the errno code, so it is retried like any network error; setup is bounded by the client's timeout
 * and stops at once on the request's abort signal (Node's own request timer only starts
 * when the socket exists). A non-2xx answer to CONNECT is TSBUILD_PROXY_REFUSED.
 *
 *   const agent = new TunnelAgent(proxy, { timeoutMs: 60_000, userAgent, ca: [...] });
 *   https.request(url, { agent, [ROUTE]: { registry: 'registry.example', signal } });
 */
import http from 'node:http';
import https from 'node:https';
import net, { isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import { NetworkError, RegistryError, throwIfAborted } from './errors.js';
import type { Proxy } from './proxy.js';

/** Request option key: what the agents need to know about the request that asks for a connection. */
export const ROUTE = Symbol('tsbuild.proxyRoute');

export interface Route {
  /** Names the registry in errors. */
  registry: string;
  /** The request's `host[:port]`, for errors. */
  target: string;
  /** Stops a connection that is still being set up. */
  signal?: AbortSignal;
}

export interface TunnelOptions {
  timeoutMs: number;
  userAgent: string;
  /** Trusted roots, for an https:// proxy and for the registry behind a tunnel. */
  ca: string[];
}

/** The largest CONNECT answer head we read. */
const MAX_HEAD = 16 * 1024;

/** A socket to the proxy itself (TLS for an https:// proxy), connected. `target` names what it is for in errors. */
export function connectToProxy(proxy: Proxy, target: string, opts: TunnelOptions & Route): Promise<Socket> {
  return setUp(proxy, target, opts, (_socket, done) => done());
}

/** A raw tunnel to `host:port` through the proxy: CONNECT answered with 2xx, nothing read past its head. */
export function openTunnel(proxy: Proxy, host: string, port: number, opts: TunnelOptions & Route): Promise<Socket> {
  const target = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  return setUp(proxy, target, opts, (socket, done) => {
    const head = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`, `User-Agent: ${opts.userAgent}`];
    if (proxy.authorization !== undefined) head.push(`Proxy-Authorization: ${proxy.authorization}`);
    socket.write(`${head.join('\r\n')}\r\n\r\n`);
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) {
        if (buf.length > MAX_HEAD) done(refusedAnswer(proxy, target, opts.registry, `an answer head over ${MAX_HEAD} bytes`));
        return;
      }
      socket.removeListener('data', onData);
      socket.pause();
      const line = buf.subarray(0, buf.indexOf('\r\n')).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(line);
      if (!status) return done(refusedAnswer(proxy, target, opts.registry, `a malformed status line ${JSON.stringify(line.slice(0, 100))}`));
      const code = Number(status[1]);
      if (code < 200 || code > 299) return done(proxyRefused(proxy, code, status[2] ?? '', `CONNECT ${target}`, opts.registry));
      // The registry speaks only after our TLS hello: anything already here is not from it.
      if (buf.length > end + 4) return done(refusedAnswer(proxy, target, opts.registry, 'data before the tunnel was used'));
      done();
    };
    socket.on('data', onData);
  });
}

/** The error for a proxy that answered `status` to `what` (`CONNECT host:443`, `GET http://...`). */
export function proxyRefused(proxy: Proxy, status: number, reason: string, what: string, registry: string): RegistryError {
  const why =
    status === 407
      ? `407 proxy authentication required (${proxy.authorization !== undefined ? `the user:password in ${proxy.variable} was refused` : `${proxy.variable} has no user:password`})`
      : `${status}${reason ? ` ${reason}` : ''}`;
  return new RegistryError('TSBUILD_PROXY_REFUSED', `proxy ${proxy.host} (${proxy.variable}) refused ${what}: ${why}`, { registry, status });
}

function refusedAnswer(proxy: Proxy, target: string, registry: string, what: string): RegistryError {
  return new RegistryError('TSBUILD_PROXY_REFUSED', `proxy ${proxy.host} (${proxy.variable}) sent ${what} to CONNECT ${target}`, { registry });
}

/**
 * Connect to the proxy, then run `handshake` until it calls `done`. One timer (the client's
 * timeout) and the abort signal cover the whole setup; the socket is destroyed on failure.
 */
function setUp(proxy: Proxy, target: string, opts: TunnelOptions & Route, handshake: (socket: Socket, done: (err?: Error) => void) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    try {
      throwIfAborted(opts.signal);
    } catch (err) {
      reject(err);
      return;
    }
    const socket: Socket = proxy.secure
      ? tls.connect({ host: proxy.hostname, port: proxy.port, ca: opts.ca, ...(isIP(proxy.hostname) ? {} : { servername: proxy.hostname }) })
      : net.connect({ host: proxy.hostname, port: proxy.port });
    let connected = false;
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      if (err) {
        socket.destroy();
        reject(err);
      } else {
        resolve(socket);
      }
    };
    const named = (err: Error, message: string) => new NetworkError(message, (err as NodeJS.ErrnoException).code, { cause: err });
    const onError = (err: Error) => done(err instanceof RegistryError ? err : named(err, connected ? `proxy ${proxy.host} failed during CONNECT ${target}: ${err.message}` : `cannot reach proxy ${proxy.host} for ${target}: ${err.message}`));
    const onClose = () => done(new NetworkError(`proxy ${proxy.host} closed the connection before ${connected ? `answering CONNECT ${target}` : 'it was set up'}`, 'ECONNRESET'));
    const onAbort = () => {
      try {
        throwIfAborted(opts.signal);
      } catch (err) {
        done(err as Error);
      }
    };
    const timer = setTimeout(() => done(new NetworkError(`no answer from proxy ${proxy.host} for ${target} in ${opts.timeoutMs / 1000} s`, 'ETIMEDOUT')), opts.timeoutMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', onError);
    socket.once('close', onClose);
    socket.once(proxy.secure ? 'secureConnect' : 'connect', () => {
      connected = true;
      handshake(socket, done);
    });
  });
}

function routeOf(options: object): Route {
  const route = (options as { [ROUTE]?: Route })[ROUTE];
  // A bug, never a user's failure: http.ts puts a route on every request it gives these agents.
  if (!route) throw new Error('a proxy agent was used without a route');
  return route;
}

/** https through a CONNECT tunnel, with keep-alive: the TLS session to the registry runs inside the tunnel. */
export class TunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: Proxy,
    private readonly opts: TunnelOptions,
  ) {
    super({ keepAlive: true, maxSockets: 32, ca: opts.ca });
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Socket) => void): undefined {
    const host = String(options.host ?? options.hostname);
    const port = Number(options.port ?? 443);
    const servername = options.servername || (isIP(host) ? '' : host);
    openTunnel(this.proxy, host, port, { ...this.opts, ...routeOf(options) }).then(
      (tunnel) => callback?.(null, tls.connect({ socket: tunnel, host, ca: this.opts.ca, ...(servername ? { servername } : {}) })),
      (err: Error) => callback?.(err, undefined as unknown as Socket),
    );
    return undefined;
  }
}

/** Connections to the proxy itself for absolute-form http requests, with keep-alive (shared by every http registry). */
export class ForwardAgent extends http.Agent {
  constructor(
    private readonly proxy: Proxy,
    private readonly opts: TunnelOptions,
  ) {
    super({ keepAlive: true, maxSockets: 32 });
  }

  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Socket) => void): undefined {
    const route = routeOf(options);
    connectToProxy(this.proxy, route.target, { ...this.opts, ...route }).then(
      (socket) => callback?.(null, socket),
      (err: Error) => callback?.(err, undefined as unknown as Socket),
    );
    return undefined;
  }
}
