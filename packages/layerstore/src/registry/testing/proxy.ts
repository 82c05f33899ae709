/**
 * A small HTTP proxy for tests, in front of a real registry: logs every request and lets
 * a test handler answer or rewrite any of them (fault injection). The Host header is
 * passed on unchanged, so the registry's Location headers point back at the proxy.
 */
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface Exchange {
  req: IncomingMessage;
  method: string;
  path: string;
  /** The request body (read whole). */
  body: Buffer;
  /** Send the request on to the registry and read its answer whole. */
  forward(extraHeaders?: Record<string, string>): Promise<Upstream>;
}

/** Answer `res` and return true, or return false to let the request through unchanged. */
export type Handler = (x: Exchange, res: ServerResponse) => boolean | Promise<boolean>;

export interface LoggedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

export interface TestProxy {
  host: string;
  port: number;
  log: LoggedRequest[];
  handler: Handler | undefined;
  stop(): Promise<void>;
}

export async function startProxy(target: { host: string; port: number }, handler?: Handler): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const proxy: TestProxy = { host: '', port: 0, log: [], handler, stop: async () => {} };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    proxy.log.push({ method, path, headers: req.headers });
    const forward = (extra: Record<string, string> = {}) => send(target, method, path, { ...req.headers, ...extra }, body);
    try {
      if (proxy.handler && (await proxy.handler({ req, method, path, body, forward }, res))) return;
      const up = await forward();
      res.writeHead(up.status, up.headers);
      res.end(method === 'HEAD' ? undefined : up.body);
    } catch (err) {
      res.destroy(err as Error);
    }
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.host = `127.0.0.1:${proxy.port}`;
  proxy.stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return proxy;
}

export function send(target: { host: string; port: number }, method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    delete h['content-length'];
    delete h['transfer-encoding'];
    if (body.length > 0 || method === 'PUT' || method === 'POST' || method === 'PATCH') h['content-length'] = String(body.length);
    const req = request({ host: target.host, port: target.port, method, path, headers: h }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}
