/** Reading a config file: a missing file is "not configured" unless it was asked for by name. */
import { readFile } from 'node:fs/promises';
import { LayerstoreError } from '../errors.js';

const MAX_FOREIGN_FILE = 4 * 1024 * 1024;

export async function readConfigText(file: string, opts: { what: string; mustExist: boolean }): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if ((code === 'ENOENT' || code === 'ENOTDIR') && !opts.mustExist) return undefined;
    throw new LayerstoreError('TSBUILD_CONFIG_INVALID', `cannot read ${opts.what} ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (text.length > MAX_FOREIGN_FILE) throw new LayerstoreError('TSBUILD_CONFIG_INVALID', `${file}: larger than ${MAX_FOREIGN_FILE} bytes`);
  return text;
}
