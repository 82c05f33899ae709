/**
 * Test support: a build on the recording executor (no sandbox, no root) in a fresh store
 * and context directory that the test's teardown removes.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunRequest } from '@tsbuild/executor';
import { RecordingExecutor } from '@tsbuild/executor/testing';
import { ensureSnapshots, Store, type ImageConfig } from '@tsbuild/layerstore';
import { build } from '../solve/index.js';

export interface RecordedBuild {
  /** The top layer's snapshot directory. */
  top: string;
  /** What the RUN steps asked the executor. */
  requests: RunRequest[];
  config: ImageConfig;
}

export interface ScratchContext {
  /** The context directory: put the build's files here. */
  context: string;
  /** Writes `dockerfile` into the context and builds it. */
  build(dockerfile: string): Promise<RecordedBuild>;
}

export async function scratchContext(t: { teardown(fn: () => Promise<void>): void }, prefix: string): Promise<ScratchContext> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const store = await Store.open(join(dir, 'store'));
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const context = join(dir, 'ctx');
  await mkdir(context);
  return {
    context,
    build: async (dockerfile) => {
      await writeFile(join(context, 'Dockerfile'), dockerfile);
      const executor = new RecordingExecutor();
      const { image } = await build({ store, contextDir: context, executor });
      const snapshots = await ensureSnapshots(store, image.manifest.layers, image.config.rootfs.diff_ids);
      return { top: snapshots.at(-1)!, requests: executor.requests, config: image.config };
    },
  };
}
