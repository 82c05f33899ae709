/**
 * Streaming tar writer. For each entry it yields the header bytes (see encodeHeader),
 * the body chunks as given (never copied or buffered whole) and the zero padding; after
 * the last entry, the two zero blocks of the end-of-archive marker.
 *
 * A body must be exactly header.size bytes: the writer fails as soon as more bytes
 * arrive than declared, and at the end of the body if there were fewer. The body
 * iterator is closed (a stream destroyed) when the writer fails or is abandoned.
 *
 * Example:
 *   await pipeline(Readable.from(writeTar(entries())), createWriteStream('layer.tar'));
 */
import { BLOCK_SIZE, padding, tarInvalid } from './fields.js';
import { encodeHeader, type TarHeader } from './header.js';
import { toBuffer } from './source.js';

export interface TarWriteEntry {
  header: TarHeader;
  body?: Buffer | AsyncIterable<Buffer> | NodeJS.ReadableStream;
}

/** Small Buffer bodies are joined with their header into one chunk. */
const JOIN_LIMIT = 32 * 1024;

export async function* writeTar(entries: AsyncIterable<TarWriteEntry> | Iterable<TarWriteEntry>): AsyncGenerator<Buffer> {
  for await (const { header, body } of entries) {
    const head = encodeHeader(header);
    const pad = Buffer.alloc(padding(header.size));
    if (body === undefined || Buffer.isBuffer(body)) {
      const data = body ?? Buffer.alloc(0);
      if (data.length !== header.size) throw sizeMismatch(header, data.length);
      if (data.length <= JOIN_LIMIT) {
        yield data.length === 0 ? head : Buffer.concat([head, data, pad]);
        continue;
      }
      yield head;
      yield data;
    } else {
      yield head;
      let written = 0;
      for await (const raw of body as AsyncIterable<unknown>) {
        const chunk = toBuffer(raw);
        written += chunk.length;
        if (written > header.size) throw sizeMismatch(header, written, 'at least ');
        if (chunk.length > 0) yield chunk;
      }
      if (written !== header.size) throw sizeMismatch(header, written);
    }
    if (pad.length > 0) yield pad;
  }
  yield Buffer.alloc(2 * BLOCK_SIZE);
}

function sizeMismatch(header: TarHeader, got: number, qualifier = '') {
  return tarInvalid(`body is ${qualifier}${got} bytes but the header says ${header.size}`, header.name);
}
