/**
 * A build's exports, and the one manifest that names them.
 *
 * The build leaves its image in the store with uncompressed layers of its own. Exports
 * and pushes need a form (media-type family, layer compression); the first of them —
 * the first push when there is one, else the first file output with layers — decides the
 * build's manifest: the store's tags move to it, `--metadata-file` names it, and every
 * export or push of the same form writes that very manifest. An output asking for
 * another form (say `-o type=docker` next to `-o type=oci`) gets its own manifest of the
 * same image (same config, same image ID).
 */
import type { Descriptor, ImageForm, RegistryClient, Store, StoredImage } from '@tsbuild/layerstore';
import { imageAs, parseReference, withDefaultTag } from '@tsbuild/layerstore';
import { UsageError } from '../errors.js';
import { formOf, withCompressionDefaults, type CompressionDefaults, type OutputSpec } from './outputs.js';
import { describeOutput, pushSink, sinkFor, type ExportOptions } from './sinks.js';

export interface PushPlan {
  destinations: string[];
  form: ImageForm;
}

export interface ExportPlan {
  /** File and directory outputs (oci, docker, local), in the order given. */
  outputs: OutputSpec[];
  /** `--push` (the -t names) and each `-o type=registry`, in that order. */
  pushes: PushPlan[];
}

export interface ExportHooks extends Omit<ExportOptions, 'names'> {
  /** The registry client pushes go through, created on first use. */
  registry: () => RegistryClient;
  onExport: (message: string) => void;
}

export interface ExportResult {
  /** The build's manifest (see above). */
  image: StoredImage;
  pushed?: Descriptor;
}

/**
 * The build's pushes: `--push` pushes every -t name; each `-o type=registry` its name=
 * (or the -t names). Each destination must be a tag.
 */
export function pushPlans(opts: { push: boolean; registryOutputs: OutputSpec[]; tags: string[]; compression: CompressionDefaults }): PushPlan[] {
  const { tags } = opts;
  const plans = [
    ...(opts.push ? [{ destinations: tags, form: formOf(withCompressionDefaults({ type: 'registry', dest: '', tar: false }, opts.compression, '--push')) }] : []),
    ...opts.registryOutputs.map((o) => ({ destinations: o.names ?? tags, form: formOf(o) })),
  ];
  if (plans.some((p) => p.destinations.length === 0)) throw new UsageError('--push and -o type=registry need a name: give -t NAME (or name= in -o)');
  for (const dest of plans.flatMap((p) => p.destinations)) {
    if (withDefaultTag(parseReference(dest)).digest !== undefined) throw new UsageError(`push ${dest}: push to a tag, not a digest`);
  }
  return plans;
}

/** The form that decides the build's manifest, or undefined when nothing leaves the store. */
export function primaryForm(plan: ExportPlan): ImageForm | undefined {
  if (plan.pushes.length > 0) return plan.pushes[0]!.form;
  const first = plan.outputs.find((o) => o.type !== 'local');
  return first ? formOf(first) : undefined;
}

export async function exportBuild(store: Store, built: { image: StoredImage; tags: string[] }, plan: ExportPlan, hooks: ExportHooks): Promise<ExportResult> {
  const form = primaryForm(plan);
  let image = built.image;
  if (form !== undefined) {
    image = await imageAs(store, built.image, form);
    if (image !== built.image) {
      for (const t of built.tags) await store.tag(image, t);
      if (built.tags.length === 0) await store.recordUnnamed(image, { replacing: built.image });
    }
  }
  for (const out of plan.outputs) {
    hooks.onExport(describeOutput(out));
    await sinkFor(out, { ...hooks, names: built.tags }).write(store, image, hooks.signal ? { signal: hooks.signal } : {});
  }
  let pushed: Descriptor | undefined;
  for (const push of plan.pushes) {
    hooks.onExport(`pushing ${push.destinations.join(', ')}`);
    const desc = await pushSink(hooks.registry, [...new Set(push.destinations)], push.form).write(store, image, hooks.signal ? { signal: hooks.signal } : {});
    if (desc) hooks.onExport(`pushed manifest ${desc.digest}`);
    pushed ??= desc;
  }
  return { image, ...(pushed ? { pushed } : {}) };
}
