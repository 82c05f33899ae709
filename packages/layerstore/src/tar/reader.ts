/**
 * Streaming tar reader: ustar, PAX ('x' per entry, 'g' ignored), GNU ('L', 'K', base-256
 * numbers) and v7 headers. Bodies are streamed as slices of the input, so memory stays
 * constant whatever the entry size.
 *
 * Lifecycle: `readTar` yields one TarEntry at a time. Its `body` may be iterated once,
 * before the next entry is requested; whatever is left unread is skipped when the next
 * entry is requested, after which the old body throws. After the end-of-archive marker
 * the rest of the input is read and discarded, so a digest computed on the way in covers
 * the whole stream. An input that ends exactly at an entry boundary without the marker is
 * accepted, as by Go's archive/tar and GNU tar (size and digest checks belong to the
 * blob layer); an input that ends inside a header, body or padding is an error.
 *
 * Example:
 *   for await (const { header, body } of readTar(stream)) {
 *     if (header.type === 'file') await pipeline(body, createWriteStream(dest));
 *   }
 */
import { BLOCK_SIZE, ZERO_BLOCK, padding, readBytes, tarInvalid } from './fields.js';
import { decodeBlock, type RawHeader, type TarEntryType, type TarHeader } from './header.js';
import { parsePax, type PaxOverrides } from './pax.js';
import { ByteSource, type ByteInput } from './source.js';

export interface TarEntry {
  header: TarHeader;
  /** Must be fully consumed, or it is skipped automatically when the next entry is requested. */
  body: AsyncIterable<Buffer>;
}

export interface ReadTarOptions {
  /** Largest PAX 'x' or GNU 'L'/'K' data accepted, in bytes. Default 1 MiB. */
  maxPaxSize?: number;
}

const DEFAULT_MAX_PAX_SIZE = 1 << 20;

const TYPES: ReadonlyMap<number, TarEntryType> = new Map<number, TarEntryType>([
  [0x30, 'file'], // '0'
  [0x00, 'file'], // '\0' (v7)
  [0x37, 'file'], // '7' contiguous
  [0x31, 'link'],
  [0x32, 'symlink'],
  [0x33, 'char'],
  [0x34, 'block'],
  [0x35, 'directory'],
  [0x36, 'fifo'],
]);

const TYPE_PAX = 0x78; // 'x'
const TYPE_PAX_GLOBAL = 0x67; // 'g'
const TYPE_GNU_LONGNAME = 0x4c; // 'L'
const TYPE_GNU_LONGLINK = 0x4b; // 'K'
const TYPE_GNU_SPARSE = 0x53; // 'S'

export async function* readTar(input: ByteInput, opts: ReadTarOptions = {}): AsyncGenerator<TarEntry> {
  const maxPaxSize = opts.maxPaxSize ?? DEFAULT_MAX_PAX_SIZE;
  // The caller's bug, never a user's failure (no flag sets it).
  if (!Number.isSafeInteger(maxPaxSize) || maxPaxSize < 0) throw new RangeError('maxPaxSize must be a non-negative integer');
  const src = new ByteSource(input);
  try {
    for (;;) {
      const header = await nextHeader(src, maxPaxSize);
      if (header === undefined) break;
      const body = new EntryBody(src, header);
      yield { header, body };
      await body.finish();
    }
    await src.drain();
  } finally {
    await src.close();
  }
}

/** Meta headers seen so far for the entry being assembled. */
interface Pending {
  pax?: PaxOverrides;
  longName?: Buffer;
  longLink?: Buffer;
  metaName?: Buffer;
}

/** Read headers until a real entry (returned) or the end of the archive (undefined). */
async function nextHeader(src: ByteSource, maxPaxSize: number): Promise<TarHeader | undefined> {
  const p: Pending = {};
  for (;;) {
    const blk = await src.read(BLOCK_SIZE);
    const pending = p.metaName !== undefined;
    if (blk.length === 0 && !pending) return undefined;
    if (blk.length < BLOCK_SIZE) {
      const partial = blk.length > 0 ? readBytes(blk, 'name', Math.min(blk.length, 100)) : undefined;
      throw tarInvalid('unexpected EOF in header', p.pax?.path ?? p.longName ?? partial ?? p.metaName);
    }
    if (blk.equals(ZERO_BLOCK)) {
      if (pending) throw tarInvalid('end of archive right after a PAX or GNU long-name header', p.metaName);
      const second = await src.read(BLOCK_SIZE);
      if (second.length === 0 || second.equals(ZERO_BLOCK)) return undefined;
      throw tarInvalid(second.length < BLOCK_SIZE ? 'unexpected EOF in end-of-archive marker' : 'zero block followed by a non-zero block');
    }
    const raw = decodeBlock(blk);
    switch (raw.typeflag) {
      case TYPE_PAX:
      case TYPE_GNU_LONGNAME:
      case TYPE_GNU_LONGLINK:
        await readMeta(src, raw, p, maxPaxSize);
        continue;
      case TYPE_PAX_GLOBAL:
        // Global headers are ignored entirely (as by moby and containerd), never buffered.
        if ((await src.skip(raw.size + padding(raw.size))) < raw.size + padding(raw.size)) {
          throw tarInvalid('unexpected EOF in PAX global header', raw.name);
        }
        continue;
      case TYPE_GNU_SPARSE:
        throw tarInvalid('sparse files are not supported', p.pax?.path ?? p.longName ?? raw.name);
    }
    return buildHeader(raw, p);
  }
}

async function readMeta(src: ByteSource, raw: RawHeader, p: Pending, maxPaxSize: number): Promise<void> {
  const kind = raw.typeflag === TYPE_PAX ? 'PAX header' : 'GNU long-name header';
  if (raw.size > maxPaxSize) throw tarInvalid(`${kind} of ${raw.size} bytes exceeds the limit of ${maxPaxSize}`, raw.name);
  const data = await src.read(raw.size);
  const pad = padding(raw.size);
  if (data.length < raw.size || (await src.skip(pad)) < pad) throw tarInvalid(`unexpected EOF in ${kind}`, raw.name);
  // Two meta headers of one kind for one entry: readers disagree on which wins, so refuse.
  const duplicate = () => tarInvalid(`two ${kind}s for one entry`, raw.name);
  if (raw.typeflag === TYPE_PAX) {
    if (p.pax !== undefined) throw duplicate();
    p.pax = parsePax(data, raw.name);
  } else {
    const nul = data.indexOf(0);
    const value = Buffer.from(nul < 0 ? data : data.subarray(0, nul));
    if (value.length === 0) throw tarInvalid(`empty ${kind}`, raw.name);
    const key = raw.typeflag === TYPE_GNU_LONGNAME ? 'longName' : 'longLink';
    if (p[key] !== undefined) throw duplicate();
    p[key] = value;
  }
  p.metaName = raw.name;
}

function buildHeader(raw: RawHeader, p: Pending): TarHeader {
  const { pax } = p;
  const name = pax?.path ?? p.longName ?? raw.name;
  // GNU tar lets PAX win, Go lets the GNU record win: an archive with both is refused.
  if ((pax?.path && p.longName) || (pax?.linkpath && p.longLink)) {
    throw tarInvalid('both a PAX and a GNU long name for one entry', name);
  }
  let type = TYPES.get(raw.typeflag);
  if (type === undefined) {
    const c = raw.typeflag;
    const flag = c > 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `0x${c.toString(16)}`;
    throw tarInvalid(`unsupported entry type ${flag}`, name);
  }
  // v7 convention: a '\0' entry whose name ends in '/' is a directory (Go, GNU tar).
  if (raw.typeflag === 0 && name[name.length - 1] === 0x2f) type = 'directory';
  const header: TarHeader = {
    name,
    type,
    mode: raw.mode,
    uid: pax?.uid ?? raw.uid,
    gid: pax?.gid ?? raw.gid,
    // Only regular files have data; the size field of other types is ignored (POSIX, Go).
    size: type === 'file' ? (pax?.size ?? raw.size) : 0,
    mtime: pax?.mtime ?? raw.mtime,
  };
  if (type === 'link' || type === 'symlink') header.linkname = pax?.linkpath ?? p.longLink ?? raw.linkname;
  if (type === 'char' || type === 'block') {
    header.devmajor = raw.devmajor ?? 0;
    header.devminor = raw.devminor ?? 0;
  }
  if (pax?.xattrs) header.xattrs = pax.xattrs;
  const uname = pax?.uname ?? raw.uname;
  const gname = pax?.gname ?? raw.gname;
  if (uname) header.uname = uname;
  if (gname) header.gname = gname;
  return header;
}

/** One entry's body: slices of the input, at most `size` bytes in all. */
class EntryBody implements AsyncIterable<Buffer> {
  private remaining: number;
  private started = false;
  private detached = false;

  constructor(
    private readonly src: ByteSource,
    private readonly header: TarHeader,
  ) {
    this.remaining = header.size;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    // This and the next: the caller's bug (a misuse of the reader), never a user's failure.
    if (this.started) throw new Error('a tar entry body can be iterated only once');
    this.started = true;
    return { next: () => this.next() };
  }

  private async next(): Promise<IteratorResult<Buffer, undefined>> {
    if (this.detached) throw new Error('tar entry body read after the next entry was requested');
    if (this.remaining === 0) return { done: true, value: undefined };
    const chunk = await this.src.readUpTo(this.remaining);
    if (chunk.length === 0) throw tarInvalid('unexpected EOF in entry body', this.header.name);
    this.remaining -= chunk.length;
    return { done: false, value: chunk };
  }

  /** Skip what the consumer left, plus the padding to the next block. */
  async finish(): Promise<void> {
    this.detached = true;
    const n = this.remaining + padding(this.header.size);
    this.remaining = 0;
    if ((await this.src.skip(n)) < n) throw tarInvalid('unexpected EOF in entry body', this.header.name);
  }
}
