/**
 * A real registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1
 * and a free port, with a temporary config and storage directory, optionally behind
 * htpasswd basic auth or token auth. `stop()` kills it and removes everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

/** user `tsbuild`, password `tsbuild-secret`, bcrypt cost 4 (made once with crypt(3); no htpasswd tool needed). */
export const TEST_USER = { username: 'tsbuild', password: 'tsbuild-secret' };
const HTPASSWD = 'tsbuild:$2b$04$tsbuildtestsaltsaltsaeqdPpvjtOxf2i/UIc6JKvw12dsgAtD9C\n';

export interface TokenAuthConfig {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
}

export interface RunningRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  dir: string;
  /** The registry's log (access log included). */
  log(): Promise<string>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

type RegistryOptions = { auth?: 'htpasswd' | { token: TokenAuthConfig }; tls?: { certificate: string; key: string } };

/**
 * One registry for every test of a file: started by a serial `before` hook (so the file's
 * own `before` hooks, declared after this call, find it running), stopped by an
 * `after.always` one. The object answers for the running registry once the hook has run.
 */
export function fileRegistry(test: { serial: { before(fn: () => Promise<void>): void }; after: { always(fn: () => Promise<void>): void } }, opts: RegistryOptions = {}): RunningRegistry {
  let running: RunningRegistry | undefined;
  test.serial.before(async () => {
    running = await startRegistry(opts);
  });
  test.after.always(async () => {
    await running?.stop();
  });
  const started = (): RunningRegistry => {
    if (!running) throw new Error('fileRegistry: used before its before hook ran');
    return running;
  };
  return {
    get host() {
      return started().host;
    },
    get port() {
      return started().port;
    },
    get dir() {
      return started().dir;
    },
    log: () => started().log(),
    stop: () => started().stop(),
  };
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<RunningRegistry> {
  if (!existsSync(REGISTRY_BIN)) throw new Error(`${REGISTRY_BIN} is missing: install Debian's docker-registry package`);
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-registry-'));
  const port = await freePort();
  let auth = '';
  if (opts.auth === 'htpasswd') {
    await writeFile(join(dir, 'htpasswd'), HTPASSWD);
    auth = `auth:\n  htpasswd:\n    realm: tsbuild-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (opts.auth) {
    const t = opts.auth.token;
    auth = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.rootCertBundle}\n`;
  }
  const config = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: text',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: tsbuild-test-secret',
    ...(opts.tls ? ['  tls:', `    certificate: ${opts.tls.certificate}`, `    key: ${opts.tls.key}`] : []),
    'health:',
    '  storagedriver:',
    '    enabled: false',
    auth,
  ].join('\n');
  await writeFile(join(dir, 'config.yml'), config);
  const logFile = join(dir, 'registry.log');
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), sleep(5000, undefined, { ref: false }).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    await rm(dir, { recursive: true, force: true });
  };
  const host = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      await stop();
      throw new Error(`docker-registry exited at start: ${text.slice(-2000)}`);
    }
    if (await answers(port)) break;
    if (i > 200) {
      await stop();
      throw new Error('docker-registry did not start within 10 s');
    }
    await sleep(50);
  }
  return { host, port, dir, log: () => readFile(logFile, 'utf8'), stop };
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/v2/', method: 'GET' }, (res) => {
      res.resume();
      resolve(true);
    });
    req.once('error', () => resolve(false));
    req.end();
  });
}
