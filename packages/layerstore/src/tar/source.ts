/**
 * A pull-based byte source over an async iterable of Buffers. Bodies are handed out as
 * zero-copy slices of the input chunks; only small reads that straddle chunks (headers,
 * PAX data) are concatenated. Not safe for concurrent calls: the reader is sequential.
 */
const EMPTY = Buffer.alloc(0);

export type ByteInput = AsyncIterable<Buffer> | NodeJS.ReadableStream;

/** A chunk as a Buffer without copying; strings (a stream in text mode) are refused. */
export function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  // The caller's bug, never a user's failure (every stream tsbuild reads is binary).
  throw new TypeError('tar streams carry Buffers, not strings (is a stream in text mode?)');
}

export class ByteSource {
  private readonly it: AsyncIterator<unknown>;
  private cur: Buffer = EMPTY;
  private ended = false;

  constructor(input: ByteInput) {
    const iterate = (input as Partial<AsyncIterable<unknown>> | null)?.[Symbol.asyncIterator];
    // The caller's bug, never a user's failure.
    if (typeof iterate !== 'function') throw new TypeError('tar input must be an async iterable of Buffers');
    this.it = iterate.call(input);
  }

  private async pull(): Promise<boolean> {
    while (!this.ended) {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        break;
      }
      const chunk = toBuffer(r.value);
      if (chunk.length > 0) {
        this.cur = chunk;
        return true;
      }
    }
    return false;
  }

  /** Between 1 and n bytes (a slice of the current chunk), or an empty Buffer at EOF. */
  async readUpTo(n: number): Promise<Buffer> {
    if (this.cur.length === 0 && !(await this.pull())) return EMPTY;
    const c = this.cur;
    if (c.length <= n) {
      this.cur = EMPTY;
      return c;
    }
    this.cur = c.subarray(n);
    return c.subarray(0, n);
  }

  /** Exactly n bytes, or fewer only when the input ends first. */
  async read(n: number): Promise<Buffer> {
    if (this.cur.length >= n) {
      const out = this.cur.subarray(0, n);
      this.cur = this.cur.subarray(n);
      return out;
    }
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const part = await this.readUpTo(n - got);
      if (part.length === 0) break;
      parts.push(part);
      got += part.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, got);
  }

  /** Discard up to n bytes; returns how many were discarded (< n only at EOF). */
  async skip(n: number): Promise<number> {
    let done = 0;
    while (done < n) {
      const part = await this.readUpTo(n - done);
      if (part.length === 0) break;
      done += part.length;
    }
    return done;
  }

  /** Read and discard everything that is left. */
  async drain(): Promise<void> {
    this.cur = EMPTY;
    while (await this.pull()) this.cur = EMPTY;
  }

  /** Release the input early (destroys a stream); a no-op once it has ended. */
  async close(): Promise<void> {
    this.cur = EMPTY;
    if (!this.ended) {
      this.ended = true;
      try {
        await this.it.return?.();
      } catch {
        // Cleanup only: the error that got us here (if any) is the one worth reporting.
      }
    }
  }
}
