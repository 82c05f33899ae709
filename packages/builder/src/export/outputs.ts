/**
 * `-o/--output` specs (`type=oci,dest=out.tar`) and exporting an image to them:
 *   type=oci,dest=FILE[,tar=true]      OCI archive (gzip layers by default)
 *   type=oci,dest=DIR,tar=false        OCI layout directory
 *   type=docker,dest=FILE              docker-archive for `docker load` (uncompressed like `docker save`)
 *   type=local,dest=DIR                the root filesystem as a directory
 *   type=registry[,name=REF]           pushed (see plan.ts)
 * Options: compression=uncompressed|gzip|zstd, compression-level=N, name=REF[;REF...],
 * oci-mediatypes=true|false (OCI or Docker media types in the manifest; default true,
 * false for type=docker, as BuildKit does).
 * `tsbuild build --compression/--compression-level` set the default compression of every
 * output with layers; an output's own compression= and compression-level= win.
 * Which layerstore sink writes each output: sinks.ts.
 */
import { resolve } from 'node:path';
import { familiarString, parseTag, type Compression, type ImageForm } from '@tsbuild/layerstore';
import { UsageError } from '../errors.js';

export interface OutputSpec {
  /** `registry` pushes (to name=, else the -t names); the others write dest. */
  type: 'oci' | 'docker' | 'local' | 'registry';
  dest: string;
  tar: boolean;
  compression?: Compression;
  compressionLevel?: number;
  names?: string[];
  /** OCI (true) or Docker (false) media types; unset: the type's default. */
  ociMediaTypes?: boolean;
  /** `--load`: the docker-archive goes to `docker load` instead of dest. */
  load?: boolean;
}

const KEYS: Record<OutputSpec['type'], string[]> = {
  oci: ['type', 'dest', 'tar', 'compression', 'compression-level', 'name', 'oci-mediatypes'],
  docker: ['type', 'dest', 'compression', 'compression-level', 'name', 'oci-mediatypes'],
  local: ['type', 'dest'],
  registry: ['type', 'name', 'push', 'compression', 'compression-level', 'oci-mediatypes'],
};

export function parseOutput(spec: string): OutputSpec {
  const bad = (why: string) => new UsageError(`-o ${spec}: ${why}`);
  const fields = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) {
      if (fields.size === 0 && !spec.includes('=')) {
        // `-o DIR` is BuildKit's shorthand for type=local,dest=DIR
        fields.set('type', 'local');
        fields.set('dest', part);
        continue;
      }
      throw bad(`expected key=value, got ${JSON.stringify(part)}`);
    }
    const k = part.slice(0, eq).trim();
    if (fields.has(k)) throw bad(`duplicate key ${k}`);
    fields.set(k, part.slice(eq + 1));
  }
  const type = fields.get('type');
  if (type !== 'oci' && type !== 'docker' && type !== 'local' && type !== 'registry') throw bad(`unknown output type ${JSON.stringify(type ?? '')}: want oci, docker, local or registry`);
  for (const k of fields.keys()) if (!KEYS[type].includes(k)) throw bad(`unknown key ${JSON.stringify(k)} for type=${type}`);
  if (type === 'registry' && fields.has('push') && fields.get('push') !== 'true') throw bad('type=registry always pushes (push=true)');
  const dest = fields.get('dest');
  if (!dest && type !== 'registry') throw bad('dest= is required');
  const out: OutputSpec = { type, dest: dest ? resolve(dest) : '', tar: type !== 'local' && type !== 'registry' };
  const tar = fields.get('tar');
  if (tar !== undefined) {
    if (tar !== 'true' && tar !== 'false') throw bad(`tar must be true or false`);
    out.tar = tar === 'true';
  }
  const compression = fields.get('compression');
  if (compression !== undefined) {
    const c = COMPRESSIONS[compression];
    if (!c) throw bad(`unknown compression ${JSON.stringify(compression)}: want uncompressed, gzip or zstd`);
    out.compression = c;
  }
  const level = fields.get('compression-level');
  if (level !== undefined) {
    if (!/^-?\d+$/.test(level)) throw bad('compression-level must be an integer');
    out.compressionLevel = Number(level);
    if (out.compression !== undefined) checkLevel(out.compression, out.compressionLevel, bad);
  }
  const oci = fields.get('oci-mediatypes');
  if (oci !== undefined) {
    if (oci !== 'true' && oci !== 'false') throw bad('oci-mediatypes must be true or false');
    out.ociMediaTypes = oci === 'true';
  }
  checkFormat(out, bad);
  const names = fields.get('name');
  if (names !== undefined) {
    out.names = names.split(';').map((n) => {
      try {
        return familiarString(parseTag(n));
      } catch (err) {
        throw bad((err as Error).message);
      }
    });
  }
  return out;
}

const COMPRESSIONS: Record<string, Compression> = { uncompressed: 'none', none: 'none', gzip: 'gzip', zstd: 'zstd' };

/** Levels each compressor accepts (zlib's 0-9; zstd's regular 1-22). */
const LEVELS: Record<Exclude<Compression, 'none'>, { min: number; max: number }> = { gzip: { min: 0, max: 9 }, zstd: { min: 1, max: 22 } };

/** `--load`: a docker-archive for `docker load` (buildx's shorthand for -o type=docker into docker). */
export function loadOutput(): OutputSpec {
  return { type: 'docker', dest: '', tar: true, load: true };
}

/** Docker manifests have no zstd layer type (BuildKit would switch to OCI types silently; we say so). */
function checkFormat(out: OutputSpec, bad: (why: string) => Error): void {
  if (out.compression === 'zstd' && formOf(out).format === 'docker') throw bad('zstd layers need OCI media types: add oci-mediatypes=true (Docker manifests have no zstd layer type)');
}

function checkLevel(compression: Compression, level: number, bad: (why: string) => Error): void {
  if (compression === 'none') return;
  const { min, max } = LEVELS[compression];
  if (level < min || level > max) throw bad(`${compression} compression levels are ${min}-${max}`);
}

/** The build's `--compression` and `--compression-level`: defaults for every output. */
export interface CompressionDefaults {
  compression?: Compression;
  level?: number;
}

/** Parse and check `--compression NAME` and `--compression-level N` (usage errors name the flag). */
export function parseCompressionFlags(compression: string | undefined, level: string | undefined): CompressionDefaults {
  const out: CompressionDefaults = {};
  if (compression !== undefined) {
    const c = COMPRESSIONS[compression];
    if (!c) throw new UsageError(`--compression ${JSON.stringify(compression)}: want gzip, zstd or uncompressed`);
    out.compression = c;
  }
  if (level !== undefined) {
    const bad = (why: string) => new UsageError(`--compression-level ${JSON.stringify(level)}: ${why}`);
    if (!/^-?\d+$/.test(level)) throw bad('expected an integer');
    out.level = Number(level);
    if (out.compression !== undefined) checkLevel(out.compression, out.level, bad);
  }
  return out;
}

/**
 * `out` with the build's defaults filled in where the -o spec (`spec`, for errors) gives
 * none; the level is checked against the compression it ends up with.
 */
export function withCompressionDefaults(out: OutputSpec, defaults: CompressionDefaults, spec: string): OutputSpec {
  if (out.type === 'local') return out;
  const compression = out.compression ?? defaults.compression ?? defaultCompression(out.type);
  const resolved: OutputSpec = { ...out, compression };
  if (out.compressionLevel !== undefined) {
    checkLevel(compression, out.compressionLevel, (why) => new UsageError(`-o ${spec}: compression-level ${out.compressionLevel}: ${why}`));
  } else if (defaults.level !== undefined && compression !== 'none') {
    checkLevel(compression, defaults.level, (why) => new UsageError(`--compression-level ${defaults.level} (for -o ${spec}): ${why}`));
    resolved.compressionLevel = defaults.level;
  }
  checkFormat(resolved, (why) => new UsageError(`-o ${spec}${out.compression === undefined ? ` (with --compression ${compression})` : ''}: ${why}`));
  return resolved;
}

function defaultCompression(type: 'oci' | 'docker' | 'registry'): Compression {
  return type === 'docker' ? 'none' : 'gzip';
}

/** The image form an output writes: its media-type family and layer compression. */
export function formOf(out: OutputSpec): ImageForm {
  return {
    format: (out.ociMediaTypes ?? out.type !== 'docker') ? 'oci' : 'docker',
    ...(out.compression !== undefined ? { compression: out.compression } : {}),
    ...(out.compressionLevel !== undefined ? { level: out.compressionLevel } : {}),
  };
}
