/**
 * A tiny authoritative DNS server for tests: answers A queries for the names it knows,
 * NXDOMAIN for the others, over UDP. Enough for busybox's nslookup and libc resolvers.
 */
import { createSocket, type Socket } from 'node:dgram';

export interface DnsServer {
  port: number;
  queries: string[];
  close(): Promise<void>;
}

function qname(msg: Buffer): { name: string; end: number } {
  const labels: string[] = [];
  let i = 12;
  while (i < msg.length && msg[i]! !== 0) {
    const n = msg[i]!;
    labels.push(msg.toString('latin1', i + 1, i + 1 + n));
    i += n + 1;
  }
  return { name: labels.join('.').toLowerCase(), end: i + 1 };
}

export function answer(query: Buffer, records: ReadonlyMap<string, string>): Buffer {
  const { name, end } = qname(query);
  const qtype = query.readUInt16BE(end);
  const question = query.subarray(12, end + 4);
  const ip = records.get(name);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0); // id
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | (ip === undefined ? 3 : 0), 2); // QR AA RD, rcode
  header.writeUInt16BE(1, 4); // qdcount
  if (ip === undefined || qtype !== 1) return Buffer.concat([header, question]);
  header.writeUInt16BE(1, 6); // ancount
  const rr = Buffer.alloc(16);
  rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
  rr.writeUInt16BE(1, 2); // A
  rr.writeUInt16BE(1, 4); // IN
  rr.writeUInt32BE(60, 6); // ttl
  rr.writeUInt16BE(4, 10);
  Buffer.from(ip.split('.').map(Number)).copy(rr, 12);
  return Buffer.concat([header, question, rr]);
}

export async function startDnsServer(address: string, records: ReadonlyMap<string, string>, port = 53): Promise<DnsServer> {
  const s: Socket = createSocket('udp4');
  const queries: string[] = [];
  s.on('message', (msg, from) => {
    if (msg.length < 17) return;
    queries.push(qname(msg).name);
    s.send(answer(msg, records), from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, address, () => resolve());
  });
  return { port: s.address().port, queries, close: () => new Promise((r) => s.close(() => r())) };
}
