/**
 * A bearer token server for tests (the docker token protocol): checks Basic credentials,
 * grants the requested repository scopes, and signs a JWT (RS256, the certificate in
 * `x5c`) that docker-registry's `auth: token:` trusts through `rootcertbundle`.
 * The key and self-signed certificate are made with openssl (fixtures.ts).
 */
import { sign } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCert } from './fixtures.js';
import type { TokenAuthConfig } from './registry-server.js';

export interface TokenRequestLog {
  account: string | undefined;
  scopes: string[];
  authorized: boolean;
}

export interface TokenServer {
  realm: string;
  auth: TokenAuthConfig;
  log: TokenRequestLog[];
  /** Answer a request yourself (faults); return true when handled. */
  override: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  /** The next this many tokens are issued already expired (the registry refuses them). */
  expiredTokens: number;
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startTokenServer(users: Record<string, string>): Promise<TokenServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-token-'));
  const { cert: certFile, key: keyFile } = await selfSignedCert(dir, 'tsbuild-test-token');
  const key = await readFile(keyFile, 'utf8');
  const certDer = (await readFile(certFile, 'utf8')).replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const issuer = 'tsbuild-test-issuer';
  const service = 'tsbuild-test-registry';
  const log: TokenRequestLog[] = [];
  const server: TokenServer = { realm: '', auth: { realm: '', service, issuer, rootCertBundle: certFile }, log, override: undefined, expiredTokens: 0, stop: async () => {} };

  const http = createServer((req, res) => {
    if (server.override?.(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    let account: string | undefined;
    let authorized = false;
    if (basic) {
      const [user, ...rest] = Buffer.from(basic[1]!, 'base64').toString().split(':');
      account = user;
      authorized = users[user!] !== undefined && users[user!] === rest.join(':');
      if (!authorized) {
        log.push({ account, scopes, authorized });
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end('{"details":"incorrect username or password"}');
        return;
      }
    }
    log.push({ account, scopes, authorized });
    const access = scopes.flatMap((s) => {
      const m = /^repository:([^:]+):(.+)$/.exec(s);
      if (!m) return [];
      // Anonymous users may pull, only known users may push; `private/...` is the first user's alone.
      const owner = Object.keys(users)[0];
      if (m[1]!.startsWith('private/') && account !== owner) return [{ type: 'repository', name: m[1]!, actions: [] }];
      const actions = m[2]!.split(',').filter((a) => a === 'pull' || authorized);
      return [{ type: 'repository', name: m[1]!, actions }];
    });
    let now = Math.floor(Date.now() / 1000);
    if (server.expiredTokens > 0) {
      server.expiredTokens--;
      now -= 3600;
    }
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] };
    const claims = { iss: issuer, sub: account ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: String(Math.random()), access };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${signingInput}.${b64url(sign('sha256', Buffer.from(signingInput), key))}`;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  server.realm = `http://127.0.0.1:${port}/token`;
  server.auth.realm = server.realm;
  server.stop = async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
    await rm(dir, { recursive: true, force: true });
  };
  return server;
}
