/** ADD of a local archive: recognised by content (gzip, bzip2, xz, zstd or plain tar), unpacked into the layer. */
import { open as openFile } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { applyTar, autoDecompress, readTar, LayerstoreError, type Components, type RootFs } from '@tsbuild/layerstore';
import { BuildError } from '../errors.js';

/** Whether a context file is a tar archive, maybe compressed (by content, never by name, like docker). */
export async function isTarArchive(host: Buffer): Promise<boolean> {
  let stream;
  try {
    const { stream: s } = await autoDecompress(createReadStream(host, { end: 1 << 20 }));
    stream = s;
    const chunks: Buffer[] = [];
    let have = 0;
    for await (const c of stream) {
      chunks.push(c as Buffer);
      have += (c as Buffer).length;
      if (have >= 512) break;
    }
    const head = Buffer.concat(chunks);
    return head.length >= 512 && validTarHeader(head.subarray(0, 512));
  } catch {
    return false;
  } finally {
    stream?.destroy();
  }
}

function validTarHeader(b: Buffer): boolean {
  if (b.every((x) => x === 0)) return false;
  const stored = parseInt(b.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/g, '').trim(), 8);
  if (!Number.isFinite(stored)) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return stored === unsigned || stored === signed;
}

/** Unpack an archive into the layer at `at` (no whiteouts: `.wh.` names are plain files here). */
export async function extractArchive(root: RootFs, host: Buffer, at: Components, owner: { uid: number; gid: number } | undefined, written: string): Promise<void> {
  const fh = await openFile(host, 'r');
  try {
    const { stream } = await autoDecompress(fh.createReadStream({ highWaterMark: 1 << 20 }));
    await applyTar(root, readTar(stream), { whiteouts: false, at, ...(owner ? { chown: owner } : {}) });
  } catch (err) {
    if (err instanceof LayerstoreError) throw new BuildError('TSBUILD_STEP_FAILED', `ADD ${written}: ${err.message}`, { cause: err });
    throw err;
  } finally {
    await fh.close().catch(() => {});
  }
}
