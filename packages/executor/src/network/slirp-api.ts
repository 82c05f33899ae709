/**
 * slirp4netns's API socket: one JSON request per connection, one JSON reply
 * (`{"return": {...}}` or `{"error": {"desc": "..."}}`). Used to publish ports once the
 * helper is ready: `add_hostfwd` listens on the host and forwards to the sandbox.
 * Its errors are plain Errors on purpose: user-network.ts puts their message into the
 * sandbox's setup error (`cannot publish ...: reason`), so none reaches a user as such.
 */
import { connect } from 'node:net';
import { sandboxLayout } from './layout.js';
import type { PortSpec } from '../types.js';

function request(socket: string, body: unknown, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let reply = '';
    const onAbort = () => s.destroy(new Error('cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    s.setEncoding('utf8');
    s.on('data', (d: string) => (reply += d));
    s.on('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
    s.on('end', () => {
      signal.removeEventListener('abort', onAbort);
      try {
        resolve(JSON.parse(reply));
      } catch {
        reject(new Error(`unreadable reply ${JSON.stringify(reply.slice(0, 200))}`));
      }
    });
    s.end(JSON.stringify(body));
  });
}

/** Publish one port; rejects with slirp4netns's reason (e.g. the host port is taken). */
export async function addHostForward(socket: string, p: PortSpec, signal: AbortSignal): Promise<void> {
  const reply = (await request(socket, {
    execute: 'add_hostfwd',
    arguments: { proto: p.protocol ?? 'tcp', host_addr: p.hostIp ?? '0.0.0.0', host_port: p.hostPort, guest_addr: sandboxLayout().address, guest_port: p.containerPort },
  }, signal)) as { return?: unknown; error?: { desc?: string } };
  if (reply && typeof reply === 'object' && 'return' in reply) return;
  throw new Error(reply?.error?.desc ?? 'no reply');
}
