/** Checks of `RunRequest.ports` before anything is set up. */
import { isIPv4 } from 'node:net';
import { ExecutorError } from '../errors.js';
import type { NetworkMode, PortSpec } from '../types.js';

const isPort = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;

export function checkPorts(network: NetworkMode, ports: readonly PortSpec[] | undefined): void {
  if (!ports || ports.length === 0) return;
  const bad = (m: string) => new ExecutorError('TSBUILD_SANDBOX_SETUP', m);
  if (network !== 'private') throw bad(`ports can only be published from a private network, not from network ${network}`);
  const seen = new Set<string>();
  for (const p of ports) {
    const proto = p.protocol ?? 'tcp';
    const name = `${p.hostIp ?? '0.0.0.0'}:${p.hostPort}:${p.containerPort}/${proto}`;
    if (!isPort(p.hostPort) || !isPort(p.containerPort)) throw bad(`port ${name}: ports are 1-65535`);
    if (proto !== 'tcp' && proto !== 'udp') throw bad(`port ${name}: the protocol is tcp or udp`);
    if (p.hostIp !== undefined && !isIPv4(p.hostIp)) throw bad(`port ${name}: the host address must be IPv4`);
    const key = `${p.hostPort}/${proto}`;
    if (seen.has(key)) throw bad(`port ${name}: host port ${key} is published twice`);
    seen.add(key);
  }
}

/** Whether the host port is taken (binding it fails with EADDRINUSE): explains a helper's refusal. */
export async function portInUse(p: PortSpec): Promise<boolean> {
  const host = p.hostIp ?? '0.0.0.0';
  const attempt = (bind: (done: (err?: NodeJS.ErrnoException) => void) => void) =>
    new Promise<boolean>((resolve) => bind((err) => resolve(err?.code === 'EADDRINUSE')));
  if ((p.protocol ?? 'tcp') === 'udp') {
    const { createSocket } = await import('node:dgram');
    return attempt((done) => {
      const s = createSocket('udp4');
      s.once('error', (err) => done(err));
      s.bind(p.hostPort, host, () => s.close(() => done()));
    });
  }
  const { createServer } = await import('node:net');
  return attempt((done) => {
    const s = createServer();
    s.once('error', (err) => done(err));
    s.listen(p.hostPort, host, () => s.close(() => done()));
  });
}
