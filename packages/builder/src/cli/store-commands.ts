/** `tsbuild prune` and `tsbuild store verify`. */
import { prune, verifyStore, type Store } from '@tsbuild/layerstore';
import { humanSize } from './format.js';
import type { Io } from './build-command.js';

export async function pruneCommand(store: Store, io: Io, opts: { verbose: boolean; all: boolean }): Promise<void> {
  const r = await prune(store, { all: opts.all, onRemove: (what) => opts.verbose && io.stdout.write(`removed ${what}\n`) });
  io.stdout.write(`Removed ${r.blobs} blobs, ${r.snapshots} snapshots and ${r.records} cache records\nTotal reclaimed space: ${humanSize(r.bytes)}\n`);
}

/** Prints the problems found; returns whether the store is sound. */
export async function verifyCommand(store: Store, io: Io): Promise<boolean> {
  const r = await verifyStore(store);
  for (const p of r.problems) io.stdout.write(`PROBLEM: ${p}\n`);
  io.stdout.write(`${store.root}: ${r.blobs} blobs (${humanSize(r.bytes)}) re-hashed, ${r.images} images, ${r.snapshots} snapshots: ${r.problems.length === 0 ? 'OK' : `${r.problems.length} problems`}\n`);
  return r.problems.length === 0;
}
