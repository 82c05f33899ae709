/**
 * A forward proxy for tests, what HTTP_PROXY / HTTPS_PROXY point at in a CI job: CONNECT
 * tunnels and absolute-form requests (`GET http://host/...`), spoken to over http or https.
 * It resolves host names only through its own `hosts` table (`registry.proxytest` ->
 * 127.0.0.1) and answers 502 for any other name, so a request that reached a registry by
 * such a name went through it. It records every CONNECT and request, and with `auth` set
 * answers 407 unless Proxy-Authorization is that value.
 */
import { createServer as createHttpServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface ForwardProxy {
  /** `http://127.0.0.1:PORT` (or https://). */
  url: string;
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  /** CONNECT targets, in order (`registry.proxytest:5000`). */
  connects: string[];
  /** Absolute-form requests. */
  requests: Array<{ method: string; url: string; proxyAuthorization: string | undefined }>;
  /** Proxy-Authorization values seen on CONNECT. */
  connectAuth: Array<string | undefined>;
  /** Demand this Proxy-Authorization value (`Basic ...`), or undefined for none. */
  auth: string | undefined;
  stop(): Promise<void>;
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export async function startForwardProxy(opts: { hosts: Record<string, string>; tls?: { cert: string; key: string } }): Promise<ForwardProxy> {
  const sockets = new Set<Duplex>();
  const track = (s: Duplex) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const proxy: ForwardProxy = { url: '', host: '', port: 0, connects: [], requests: [], connectAuth: [], auth: undefined, stop: async () => {} };
  const resolve = (host: string) => opts.hosts[host.replace(/^\[|\]$/g, '').toLowerCase()];

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const proxyAuthorization = req.headers['proxy-authorization'];
    proxy.requests.push({ method: req.method ?? 'GET', url: req.url ?? '', proxyAuthorization });
    if (proxy.auth !== undefined && proxyAuthorization !== proxy.auth) {
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="test proxy"', 'Content-Length': '0' });
      res.end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('not an absolute-form request');
      return;
    }
    const address = resolve(target.hostname);
    if (target.protocol !== 'http:' || address === undefined) {
      res.writeHead(502).end(`cannot resolve ${target.hostname}`);
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const up = request({ host: address, port: Number(target.port || 80), method: req.method, path: `${target.pathname}${target.search}`, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.once('error', () => res.destroy());
    req.pipe(up);
  };

  const server: Server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest) : createHttpServer(onRequest);
  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    const target = req.url ?? '';
    proxy.connects.push(target);
    proxy.connectAuth.push(req.headers['proxy-authorization']);
    if (proxy.auth !== undefined && req.headers['proxy-authorization'] !== proxy.auth) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test proxy"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const m = /^(.+):(\d+)$/.exec(target);
    const address = m ? resolve(m[1]!) : undefined;
    if (!m || address === undefined) {
      client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = connect({ host: address, port: Number(m[2]) });
    track(upstream);
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.once('error', () => client.destroy());
    client.once('error', () => upstream.destroy());
  });
  server.on('connection', (s: Socket) => track(s));
  server.on('secureConnection', (s: Socket) => track(s));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.host = `127.0.0.1:${proxy.port}`;
  proxy.url = `${opts.tls ? 'https' : 'http'}://${proxy.host}`;
  proxy.stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((done) => server.close(done));
  };
  return proxy;
}
