/**
 * Worker-thread entry of the compression pool (`compress-pool.ts`): encodes one chunk
 * into one gzip member or zstd frame (chunk-codec.ts). Messages:
 *   in:  { id, format, buf: ArrayBuffer (transferred), length, level }
 *   out: { id, out: ArrayBuffer, buf } (both transferred: `buf` goes back for reuse)
 *      | { id, buf, error: string }
 */
import { parentPort } from 'node:worker_threads';
import { encodeChunk, type ChunkFormat } from './chunk-codec.js';

export interface ChunkRequest {
  id: number;
  format: ChunkFormat;
  buf: ArrayBuffer;
  length: number;
  level: number;
}

export type ChunkReply = { id: number; buf: ArrayBuffer; out: ArrayBuffer } | { id: number; buf: ArrayBuffer; error: string };

const port = parentPort;
if (port) {
  port.on('message', (req: ChunkRequest) => {
    try {
      const encoded = encodeChunk(req.format, new Uint8Array(req.buf, 0, req.length), req.level);
      // Transfer only memory the result owns whole (a small gzip Buffer may sit in Node's
      // shared pool): otherwise copy it out.
      const own = encoded.byteOffset === 0 && encoded.byteLength === encoded.buffer.byteLength ? encoded : new Uint8Array(encoded);
      const out = own.buffer as ArrayBuffer;
      port.postMessage({ id: req.id, buf: req.buf, out } satisfies ChunkReply, [out, req.buf]);
    } catch (err) {
      port.postMessage({ id: req.id, buf: req.buf, error: err instanceof Error ? err.message : String(err) } satisfies ChunkReply, [req.buf]);
    }
  });
}
