/**
 * The differential check: an image tsbuild built from fixtures/<case> against what docker
 * build (BuildKit) produced for the same Dockerfile and context (fixtures/<case>/expected/,
 * from fixtures/scripts/docker-goldens.sh), read by real readers of OCI images: skopeo
 * inspects the OCI archive and the store, umoci unpacks the OCI layout, and the config
 * fields, the history and the root filesystem must equal docker's.
 */
import type { ExecutionContext } from 'ava';
import { join } from 'node:path';
import { run, tsbuild } from './cli.js';
import { expected } from './fixtures.js';
import { treeOf } from './tree.js';

const CONFIG_FIELDS = ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'ExposedPorts', 'Volumes', 'Labels', 'StopSignal', 'Healthcheck', 'OnBuild', 'Shell'];

export interface BuiltImage {
  /** The store that holds the image under `tag`. */
  root: string;
  tag: string;
  /** The image as an OCI archive (`-o type=oci,dest=FILE`). */
  archive: string;
  /** ... and as an OCI layout (`-o type=oci,dest=DIR,tar=false`), with the image under `layoutRef`. */
  layout: string;
  layoutRef: string;
  /** An empty directory the check may write to (umoci's bundle). */
  scratch: string;
}

export async function checkAgainstDocker(t: ExecutionContext, name: string, img: BuiltImage): Promise<void> {
  const docker = JSON.parse(await expected(name, 'docker-image.json')) as { Config: Record<string, unknown>; Author: string; layers: number; history: Array<{ created_by: string; empty_layer: boolean }> };

  const archive = JSON.parse((await run('skopeo', ['inspect', `oci-archive:${img.archive}`])).stdout) as { Layers: string[] };
  t.is(archive.Layers.length, docker.layers, 'layer count');
  const manifest = JSON.parse((await run('skopeo', ['inspect', '--raw', `oci-archive:${img.archive}`])).stdout) as { layers: Array<{ mediaType: string }> };
  t.true(manifest.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip'), 'gzip layers in the export');
  const stored = JSON.parse((await run('skopeo', ['inspect', `oci:${img.root}:${img.tag}`])).stdout) as { Layers: string[] };
  t.is(stored.Layers.length, docker.layers);

  const res = await tsbuild(['inspect', img.tag], { root: img.root });
  t.is(res.code, 0, res.stderr);
  const inspect = JSON.parse(res.code === 0 ? res.stdout : '[{"Config":{}}]') as Array<{ Config: Record<string, unknown>; Author: string }>;
  for (const field of CONFIG_FIELDS) t.deepEqual(inspect[0]!.Config[field] ?? null, docker.Config[field] ?? null, `Config.${field}`);
  t.is(inspect[0]!.Author, docker.Author);

  const history = JSON.parse((await run('skopeo', ['inspect', '--config', `oci:${img.root}:${img.tag}`])).stdout) as { history: Array<{ created_by: string; empty_layer?: boolean }> };
  t.deepEqual(
    history.history.map((h) => ({ created_by: h.created_by, empty_layer: h.empty_layer ?? false })),
    docker.history,
    'history',
  );

  await run('umoci', ['unpack', '--image', `${img.layout}:${img.layoutRef}`, join(img.scratch, 'bundle')]);
  t.is(await treeOf(join(img.scratch, 'bundle', 'rootfs')), await expected(name, 'tree.txt'), "root filesystem (umoci unpack) equals docker build's");
}
