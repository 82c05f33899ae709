/**
 * Byte-exact streaming tar codec (ustar + PAX writer; ustar/PAX/GNU/v7 reader).
 * Names, link names and xattr values are Buffers, never decoded text.
 */
export { encodeHeader, PAX_HEADER_NAME, type TarEntryType, type TarHeader } from './header.js';
export { readTar, type ReadTarOptions, type TarEntry } from './reader.js';
export { writeTar, type TarWriteEntry } from './writer.js';
