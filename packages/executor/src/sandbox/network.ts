/** Bring the loopback interface of a fresh network namespace up (SIOCGIFFLAGS / SIOCSIFFLAGS). */
import { AF_INET, close, ioctl, SOCK, socket } from '../libc.js';

const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 0x1;
const IFREQ_SIZE = 40;
const FLAGS_OFFSET = 16;

export function loopbackUp(): void {
  const s = socket(AF_INET, SOCK.DGRAM);
  try {
    const ifr = Buffer.alloc(IFREQ_SIZE);
    ifr.write('lo', 0, 'latin1');
    ioctl(s, SIOCGIFFLAGS, ifr);
    ifr.writeUInt16LE(ifr.readUInt16LE(FLAGS_OFFSET) | IFF_UP, FLAGS_OFFSET);
    ioctl(s, SIOCSIFFLAGS, ifr);
  } finally {
    close(s);
  }
}
