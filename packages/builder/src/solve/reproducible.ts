/**
 * `tsbuild build --reproducible-check`: build twice, each time in a fresh store (a
 * layerstore cloneStore: the main store's blobs and tags, so FROM finds the same bases,
 * but no snapshots or anything built), and compare. When the images differ, name the
 * first difference: a config field, or the first differing entry of the first
 * differing layer.
 */
import { createHash } from 'node:crypto';
import { layerAsStream, readTar, type Store, type StoredImage, type TarEntry } from '@tsbuild/layerstore';
import { BuildError } from '../errors.js';

/** Why two images differ, or undefined when they are the same. */
export async function explainDifference(a: { store: Store; image: StoredImage }, b: { store: Store; image: StoredImage }): Promise<string | undefined> {
  if (a.image.manifestDescriptor.digest === b.image.manifestDescriptor.digest) return undefined;
  const ca = a.image.config;
  const cb = b.image.config;
  const da = ca.rootfs.diff_ids;
  const db = cb.rootfs.diff_ids;
  const layerHistory = (ca.history ?? []).filter((h) => !h.empty_layer);
  for (let i = 0; i < Math.max(da.length, db.length); i++) {
    if (da[i] === db[i]) continue;
    if (da[i] === undefined || db[i] === undefined) return `the images have ${da.length} and ${db.length} layers`;
    const step = layerHistory[i]?.created_by ?? '';
    const where = await firstEntryDifference(a, b, i);
    return `layer ${i + 1} (${step.replace(/ # buildkit$/, '')}) differs: ${where}`;
  }
  const fields = diffObjects(ca as unknown as Record<string, unknown>, cb as unknown as Record<string, unknown>, 'config');
  return fields.length > 0 ? `the image configs differ: ${fields.slice(0, 3).join('; ')}` : 'the manifests differ';
}

function diffObjects(x: Record<string, unknown>, y: Record<string, unknown>, path: string): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(x ?? {}), ...Object.keys(y ?? {})])) {
    const vx = x?.[k];
    const vy = y?.[k];
    if (JSON.stringify(vx) === JSON.stringify(vy)) continue;
    if (vx && vy && typeof vx === 'object' && typeof vy === 'object') out.push(...diffObjects(vx as Record<string, unknown>, vy as Record<string, unknown>, `${path}.${k}`));
    else out.push(`${path}.${k}: ${JSON.stringify(vx)} vs ${JSON.stringify(vy)}`);
  }
  return out;
}

interface EntrySummary {
  name: string;
  fields: Record<string, string | number | undefined>;
  sha256: string;
}

async function* summaries(store: Store, image: StoredImage, i: number): AsyncGenerator<EntrySummary> {
  const stream = await layerAsStream(store, image.manifest.layers[i]!, image.config.rootfs.diff_ids[i]!);
  for await (const e of readTar(stream)) yield summarise(e, await hashBody(e));
}

async function hashBody(e: TarEntry): Promise<string> {
  const h = createHash('sha256');
  for await (const c of e.body) h.update(c);
  return h.digest('hex');
}

function summarise(e: TarEntry, sha256: string): EntrySummary {
  const h = e.header;
  return {
    name: h.name.toString('utf8'),
    sha256,
    fields: {
      type: h.type,
      mode: h.mode.toString(8),
      uid: h.uid,
      gid: h.gid,
      size: h.size,
      mtime: h.mtime,
      linkname: h.linkname?.toString('utf8'),
      xattrs: h.xattrs ? [...h.xattrs].map(([k, v]) => `${k}=${v.toString('hex')}`).join(',') : undefined,
    },
  };
}

async function firstEntryDifference(a: { store: Store; image: StoredImage }, b: { store: Store; image: StoredImage }, i: number): Promise<string> {
  const ia = summaries(a.store, a.image, i);
  const ib = summaries(b.store, b.image, i);
  try {
    for (;;) {
      const [x, y] = await Promise.all([ia.next(), ib.next()]);
      if (x.done && y.done) return 'same entries; the tar bytes differ';
      if (x.done || y.done) return `first difference: ${(x.done ? y.value! : x.value!).name} is only in ${x.done ? 'the second' : 'the first'} build`;
      if (x.value.name !== y.value.name) return `first difference: ${x.value.name} vs ${y.value.name} at the same position`;
      for (const [k, v] of Object.entries(x.value.fields)) {
        if (v !== y.value.fields[k]) return `first difference: ${x.value.name}: ${k} ${v} vs ${y.value.fields[k]}`;
      }
      if (x.value.sha256 !== y.value.sha256) return `first difference: ${x.value.name}: its content differs`;
    }
  } finally {
    await ia.return(undefined);
    await ib.return(undefined);
  }
}

export class NotReproducibleError extends BuildError {
  constructor(explanation: string, sdeSet: boolean) {
    super('TSBUILD_STEP_FAILED', `not reproducible: two builds gave different images: ${explanation}${sdeSet ? '' : ' (SOURCE_DATE_EPOCH is not set, so build times end up in the image)'}`);
    this.name = 'NotReproducibleError';
  }
}
