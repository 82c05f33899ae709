/**
 * `tsbuild images`, `tsbuild inspect`, `tsbuild history`: views of the store in docker's
 * shapes. Images are grouped by image ID (the config digest), whatever manifest each name
 * points at; sizes are content sizes, uncompressed, as docker shows them (content-size.ts
 * in the layerstore), not the bytes of stored blobs.
 */
import { imageContentSize, layerContentSizes, repoDigests, type ContainerConfig, type Digest, type Store } from '@tsbuild/layerstore';
import { humanSize, since, table } from './format.js';

/** The Config object as `docker image inspect` shows it: every key present. */
function dockerConfig(c: ContainerConfig | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Hostname: '',
    Domainname: '',
    User: c?.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
  };
  if (c?.ExposedPorts) out.ExposedPorts = c.ExposedPorts;
  Object.assign(out, { Tty: false, OpenStdin: false, StdinOnce: false, Env: c?.Env ?? null, Cmd: c?.Cmd ?? null });
  if (c?.Healthcheck) out.Healthcheck = c.Healthcheck;
  if (c?.ArgsEscaped) out.ArgsEscaped = c.ArgsEscaped;
  Object.assign(out, {
    Image: '',
    Volumes: c?.Volumes ?? null,
    WorkingDir: c?.WorkingDir ?? '',
    Entrypoint: c?.Entrypoint ?? null,
    OnBuild: c?.OnBuild ?? null,
    Labels: c?.Labels ?? null,
  });
  if (c?.StopSignal) out.StopSignal = c.StopSignal;
  if (c?.Shell) out.Shell = c.Shell;
  return out;
}

export async function inspectImages(store: Store, names: string[]): Promise<object[]> {
  const listing = await store.listImages();
  const memo = new Map<Digest, Promise<number>>();
  const out: object[] = [];
  for (const name of names) {
    const image = await store.resolveImage(name);
    const c = image.config;
    out.push({
      Id: image.id,
      RepoTags: listing.find((l) => l.image.id === image.id)?.tags ?? [],
      RepoDigests: (await repoDigests(store, image.id)).sort(),
      Parent: '',
      Comment: '',
      Created: c.created ?? '',
      DockerVersion: '',
      Author: c.author ?? '',
      Config: dockerConfig(c.config),
      Architecture: c.architecture,
      ...(c.variant ? { Variant: c.variant } : {}),
      Os: c.os,
      Size: await imageContentSize(store, image, { memo }),
      RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
      History: c.history ?? [],
      Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
      Descriptor: image.manifestDescriptor,
    });
  }
  return out;
}

/** One row per name (like docker), or one `<none>` row for an image without one. */
export async function listImages(store: Store, opts: { quiet: boolean; noTrunc: boolean }): Promise<string> {
  const listing = await store.listImages();
  const id = (d: string) => (opts.noTrunc ? d : d.slice(7, 19));
  if (opts.quiet) return [...new Set(listing.map((l) => id(l.image.id)))].map((l) => `${l}\n`).join('');
  const memo = new Map<Digest, Promise<number>>();
  const rows = [['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE']];
  for (const { image, tags } of listing) {
    const size = humanSize(await imageContentSize(store, image, { memo }));
    for (const t of [...tags].sort()) {
      const colon = t.lastIndexOf(':');
      rows.push([t.slice(0, colon), t.slice(colon + 1), id(image.id), since(image.config.created), size]);
    }
    if (tags.length === 0) rows.push(['<none>', '<none>', id(image.id), since(image.config.created), size]);
  }
  return table(rows);
}

export async function imageHistory(store: Store, name: string, opts: { noTrunc: boolean; human: boolean }): Promise<string> {
  const image = await store.resolveImage(name);
  const history = image.config.history ?? [];
  const sizes = await layerContentSizes(store, image);
  const rows = [['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT']];
  let li = sizes.length - 1;
  const entries = [...history].reverse();
  entries.forEach((h, i) => {
    const size = h.empty_layer ? 0 : (sizes[li--] ?? 0);
    let by = (h.created_by ?? '').replace(/\s+/g, ' ');
    if (!opts.noTrunc && by.length > 45) by = `${by.slice(0, 44)}…`;
    const idCol = i === 0 ? (opts.noTrunc ? image.id : image.id.slice(7, 19)) : '<missing>';
    rows.push([idCol, opts.human ? since(h.created) : (h.created ?? ''), by, opts.human ? humanSize(size) : String(size), h.comment ?? '']);
  });
  return table(rows);
}
