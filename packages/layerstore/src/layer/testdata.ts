/**
 * Test data for the compression tests: deterministic bytes with 7 bits of entropy per
 * byte (the top bit cleared), like the benchmarks' data,
 * so gzip and zstd save about 12% and neither short-cuts.
 */
import { createHash } from 'node:crypto';

/** `size` bytes from a xorshift32 stream seeded with `seed`. */
export function data7bit(size: number, seed: number): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4));
  let s = (seed * 0x9e3779b1 + 0x7f4a7c15) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    words[i] = s & 0x7f7f7f7f;
  }
  return Buffer.from(words.buffer, 0, size);
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
