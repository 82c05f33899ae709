/**
 * `tsbuild run` network flags as docker's: `--network default|bridge|host|none` and
 * `-p [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]` (repeatable).
 */
import { isIPv4 } from 'node:net';
import type { NetworkMode, PortSpec } from '@tsbuild/executor';
import { UsageError } from '../errors.js';

/** `default` (docker's `bridge`): a network of its own; `host`; `none`. */
export function parseRunNetwork(value: string): NetworkMode {
  if (value === 'default' || value === 'bridge') return 'private';
  if (value === 'host' || value === 'none') return value;
  throw new UsageError(`--network ${value}: want default, host or none`);
}

function port(spec: string, what: string, value: string): number {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new UsageError(`-p ${spec}: ${what} ${JSON.stringify(value)} is not a port (1-65535)`);
  return n;
}

export function parsePublish(spec: string): PortSpec {
  const slash = spec.lastIndexOf('/');
  const proto = slash === -1 ? 'tcp' : spec.slice(slash + 1);
  if (proto !== 'tcp' && proto !== 'udp') throw new UsageError(`-p ${spec}: protocol ${JSON.stringify(proto)}: want tcp or udp`);
  const parts = (slash === -1 ? spec : spec.slice(0, slash)).split(':');
  if (parts.some((p) => p.includes('-'))) throw new UsageError(`-p ${spec}: port ranges are not supported`);
  if (parts.length === 1 || (parts.length === 3 && parts[1] === '')) {
    throw new UsageError(`-p ${spec}: give the host port too ([HOSTIP:]HOSTPORT:CONTAINERPORT); a random host port is not supported`);
  }
  if (parts.length > 3) throw new UsageError(`-p ${spec}: expected [HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp] (IPv6 host addresses are not supported)`);
  const [hostIp, hostPort, containerPort] = parts.length === 3 ? parts : [undefined, ...parts];
  if (hostIp !== undefined && !isIPv4(hostIp)) throw new UsageError(`-p ${spec}: host address ${JSON.stringify(hostIp)} is not an IPv4 address`);
  return {
    ...(hostIp !== undefined && hostIp !== '0.0.0.0' ? { hostIp } : {}),
    hostPort: port(spec, 'host port', hostPort!),
    containerPort: port(spec, 'container port', containerPort!),
    protocol: proto,
  };
}
