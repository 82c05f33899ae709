/**
 * Every fixture with an expected/ directory is built by tsbuild and checked with real
 * readers of OCI images against what docker build (BuildKit) produced for the same
 * Dockerfile and context (fixtures/scripts/docker-goldens.sh): skopeo inspects the
 * archive and the store, umoci unpacks the exported layout, and the config fields and
 * history must equal docker's.
 */
import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run, tsbuild } from './helpers/cli.js';
import { FIXTURES, expected, fixtureBuildArgs, prepareFixture, removeDir, tempDir } from './helpers/fixtures.js';
import { treeOf } from './helpers/tree.js';

const CONFIG_FIELDS = ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'ExposedPorts', 'Volumes', 'Labels', 'StopSignal', 'Healthcheck', 'OnBuild', 'Shell'];

const cases = readdirSync(FIXTURES).filter((c) => existsSync(join(FIXTURES, c, 'expected', 'docker-image.json'))).sort();

for (const name of cases) {
  test(`${name}: same image as docker build, read by skopeo and umoci`, async (t) => {
    const ctx = await prepareFixture(name);
    const work = await tempDir(`out-${name}`);
    const root = join(work, 'store');
    try {
      const tag = `fixture-${name}:test`;
      const res = await tsbuild(['build', '--progress', 'plain', '-t', tag, ...(await fixtureBuildArgs(name)), '-o', `type=oci,dest=${work}/layout,tar=false`, '-o', `type=oci,dest=${work}/image.tar`, ctx], { root });
      t.is(res.code, 0, res.stderr);
      const docker = JSON.parse(await expected(name, 'docker-image.json')) as { Config: Record<string, unknown>; Author: string; layers: number; history: Array<{ created_by: string; empty_layer: boolean }> };

      const archive = JSON.parse((await run('skopeo', ['inspect', `oci-archive:${work}/image.tar`])).stdout) as { Layers: string[] };
      t.is(archive.Layers.length, docker.layers, 'layer count');
      const manifest = JSON.parse((await run('skopeo', ['inspect', '--raw', `oci-archive:${work}/image.tar`])).stdout) as { layers: Array<{ mediaType: string }> };
      t.true(manifest.layers.every((l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip'), 'gzip layers in the export');
      const stored = JSON.parse((await run('skopeo', ['inspect', `oci:${root}:${tag}`])).stdout) as { Layers: string[] };
      t.is(stored.Layers.length, docker.layers);

      const inspect = JSON.parse(res.code === 0 ? (await tsbuild(['inspect', tag], { root })).stdout : '[]') as Array<{ Config: Record<string, unknown>; Author: string }>;
      for (const field of CONFIG_FIELDS) t.deepEqual(inspect[0]!.Config[field] ?? null, docker.Config[field] ?? null, `Config.${field}`);
      t.is(inspect[0]!.Author, docker.Author);

      const history = JSON.parse((await run('sh', ['-c', `skopeo inspect --config oci:${root}:${tag}`])).stdout) as { history: Array<{ created_by: string; empty_layer?: boolean }> };
      t.deepEqual(
        history.history.map((h) => ({ created_by: h.created_by, empty_layer: h.empty_layer ?? false })),
        docker.history,
        'history',
      );

      await run('umoci', ['unpack', '--image', `${work}/layout:test`, `${work}/bundle`]);
      t.is(await treeOf(join(work, 'bundle', 'rootfs')), await expected(name, 'tree.txt'), 'root filesystem (umoci unpack) equals docker build\'s');
    } finally {
      await removeDir(ctx);
      await removeDir(work);
    }
  });
}

