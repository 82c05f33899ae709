/**
 * The oracle's checks of what surrounds a manifest in a file (validate-image.ts): an OCI
 * layout's `oci-layout` and `index.json` (every entry's blob present with its digest and
 * size, the name annotations our writers promise), and a docker-archive's
 * `manifest.json` and `repositories` agreeing with the OCI index beside them.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { sha256, type Digest } from '../digest.js';
import { parseJson } from '../image/json.js';
import { MediaType } from '../image/media-types.js';
import { REF_NAME_ANNOTATION, type Descriptor, type Manifest } from '../image/types.js';
import { asIndex } from '../image/validate.js';
import { layoutBlob } from './image-location.js';

const CONTAINERD_NAME = 'io.containerd.image.name';

/** Problems found so far; `fatal` throws them all when the oracle cannot go on. */
export class Problems {
  readonly list: string[] = [];
  constructor(readonly what: string) {}
  add(problem: string): void {
    this.list.push(problem);
  }
  fatal(problem: string): never {
    this.add(problem);
    throw this.error();
  }
  error(): Error {
    return new Error(`validateImage ${this.what}:\n  ${this.list.join('\n  ')}`);
  }
}

/**
 * A name as a sink takes it (`app:1`, `localhost:5000/x/y`), spelled as docker-archive's
 * RepoTags (`app:1`, tag `latest` when none), the full name containerd records, and the tag
 * (an OCI layout's ref.name). Written here, not taken from reference.ts, so the oracle does
 * not share the writer's mistakes.
 */
export function nameForms(name: string): { familiar: string; full: string; tag: string } {
  const colon = name.lastIndexOf(':');
  const [repo, tag] = colon > name.lastIndexOf('/') ? [name.slice(0, colon), name.slice(colon + 1)] : [name, 'latest'];
  const first = repo.split('/')[0]!;
  const hasDomain = repo.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const fullRepo = hasDomain ? repo : repo.includes('/') ? `docker.io/${repo}` : `docker.io/library/${repo}`;
  const familiarRepo = fullRepo.replace(/^docker\.io\/(library\/)?/, '');
  return { familiar: `${familiarRepo}:${tag}`, full: `${fullRepo}:${tag}`, tag };
}

async function json(dir: string, file: string, problems: Problems): Promise<unknown> {
  const text = await readFile(join(dir, file), 'utf8').catch(() => problems.fatal(`no ${file}`));
  try {
    return parseJson(text, file);
  } catch (err) {
    return problems.fatal((err as Error).message);
  }
}

const sameSet = (a: string[], b: string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

/**
 * Check the layout in `dir` and choose the manifest: the entry named `name`, else the only
 * image (entries for several names of one manifest count as one). `names`, when given, are
 * every name the index must record, and only those.
 */
export async function checkLayout(dir: string, problems: Problems, opts: { name?: string | undefined; names?: string[] | undefined }): Promise<Descriptor> {
  const layout = await json(dir, 'oci-layout', problems);
  if ((layout as { imageLayoutVersion?: unknown }).imageLayoutVersion !== '1.0.0') problems.add(`oci-layout is ${JSON.stringify(layout)}, want imageLayoutVersion 1.0.0`);
  let index;
  try {
    index = asIndex(await json(dir, 'index.json', problems), 'index.json');
  } catch (err) {
    return problems.fatal((err as Error).message);
  }
  if (index.mediaType !== MediaType.ociIndex) problems.add(`index.json mediaType ${index.mediaType}, want ${MediaType.ociIndex}`);
  const named: string[] = [];
  for (const [i, d] of index.manifests.entries()) {
    const bytes = await layoutBlob(dir, d.digest);
    if (!bytes) problems.add(`index.json manifests[${i}]: no blob ${d.digest}`);
    else if (sha256(bytes) !== d.digest || bytes.length !== d.size) problems.add(`index.json manifests[${i}]: blob is ${sha256(bytes)} (${bytes.length} bytes), descriptor says ${d.digest} (${d.size})`);
    const full = d.annotations?.[CONTAINERD_NAME];
    const ref = d.annotations?.[REF_NAME_ANNOTATION];
    if ((full === undefined) !== (ref === undefined)) problems.add(`index.json manifests[${i}]: ${CONTAINERD_NAME} and ${REF_NAME_ANNOTATION} go together, have ${JSON.stringify(d.annotations)}`);
    if (full !== undefined) {
      named.push(full);
      if (ref !== nameForms(full).tag) problems.add(`index.json manifests[${i}]: ${REF_NAME_ANNOTATION} ${ref}, want the tag of ${full}`);
    }
  }
  if (opts.names && !sameSet(named, opts.names.map((n) => nameForms(n).full))) problems.add(`index.json names ${JSON.stringify(named)}, want ${JSON.stringify(opts.names)}`);
  if (opts.name !== undefined) {
    const want = nameForms(opts.name).full;
    return index.manifests.find((d) => d.annotations?.[CONTAINERD_NAME] === want) ?? problems.fatal(`index.json has no entry named ${want}`);
  }
  const digests = new Set(index.manifests.map((d) => d.digest));
  if (digests.size !== 1) problems.fatal(`index.json holds ${digests.size} images; name one`);
  return index.manifests[0]!;
}

interface DockerManifestEntry {
  Config?: unknown;
  RepoTags?: unknown;
  Layers?: unknown;
}

const blobFile = (d: Digest) => `blobs/sha256/${d.slice('sha256:'.length)}`;

/** docker-archive: `manifest.json` (and `repositories`) say what the OCI manifest beside them says. */
export async function checkDockerManifest(dir: string, manifest: Manifest, problems: Problems, opts: { name?: string | undefined; names?: string[] | undefined }): Promise<void> {
  const entries = await json(dir, 'manifest.json', problems);
  if (!Array.isArray(entries)) return problems.fatal('manifest.json is not a list');
  const config = blobFile(manifest.config.digest);
  const entry = (entries as DockerManifestEntry[]).find((e) => e.Config === config);
  if (!entry) return problems.fatal(`manifest.json has no entry with Config ${config} (the OCI index's manifest)`);
  const layers = manifest.layers.map((l) => blobFile(l.digest));
  if (JSON.stringify(entry.Layers) !== JSON.stringify(layers)) problems.add(`manifest.json Layers ${JSON.stringify(entry.Layers)}, the OCI manifest has ${JSON.stringify(layers)}`);
  const tags = Array.isArray(entry.RepoTags) ? (entry.RepoTags as string[]) : [];
  if (opts.name !== undefined && !tags.includes(nameForms(opts.name).familiar)) problems.add(`manifest.json RepoTags ${JSON.stringify(entry.RepoTags)} lack ${nameForms(opts.name).familiar}`);
  if (!opts.names) return;
  const want = opts.names.map((n) => nameForms(n).familiar);
  if (!sameSet(tags, want) || (want.length === 0 && entry.RepoTags !== null)) problems.add(`manifest.json RepoTags ${JSON.stringify(entry.RepoTags)}, want ${JSON.stringify(want.length ? want : null)}`);
  const repositories = await readFile(join(dir, 'repositories'), 'utf8').then((t) => JSON.parse(t) as Record<string, Record<string, string>>, () => undefined);
  const expected: Record<string, Record<string, string>> = {};
  for (const n of want) {
    const colon = n.lastIndexOf(':');
    (expected[n.slice(0, colon)] ??= {})[n.slice(colon + 1)] = manifest.config.digest.slice('sha256:'.length);
  }
  if (want.length === 0 ? repositories !== undefined : !isDeepStrictEqual(repositories, expected)) problems.add(`repositories is ${JSON.stringify(repositories)}, want ${want.length ? JSON.stringify(expected) : 'no such file'}`);
}
