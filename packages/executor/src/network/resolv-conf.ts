/**
 * /etc/resolv.conf for a `private` network. The sandbox has IPv4 only and cannot reach
 * the host's loopback, so a nameserver there (systemd-resolved's 127.0.0.53, a local
 * dnsmasq or unbound on 127.0.0.1) or on IPv6 would not answer. Like docker and
 * BuildKit, those lines are dropped and the other servers kept; when none is left the
 * sandbox asks the helper's DNS forwarder (layout.ts), which passes port 53 only on to
 * the host's own resolver (podman does the same). `search` and `options` stay.
 *
 * pasta answers DNS only through its forwarder once it has one (with `--dns-forward` set,
 * its UDP to other port-53 servers goes unanswered: passt 2023.03), so with pasta every
 * nameserver is the forwarder (`forwardAll`), which asks the host's first resolver.
 */
import { isIPv4 } from 'node:net';

function reachable(server: string): boolean {
  return isIPv4(server) && !server.startsWith('127.') && server !== '0.0.0.0';
}

export function sandboxResolvConf(host: string, forwarder: string, opts: { forwardAll?: boolean } = {}): string {
  const kept: string[] = [];
  let servers = 0;
  for (const line of host.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) {
      if (line.trim() !== '') kept.push(line);
      continue;
    }
    if (!opts.forwardAll && reachable(m[1]!)) {
      kept.push(line);
      servers++;
    }
  }
  // resolv.conf with no nameserver line means "ask 127.0.0.1" (resolver(5)): the host's loopback too.
  if (servers === 0) kept.push(`nameserver ${forwarder}`);
  return `${kept.join('\n')}\n`;
}
