/**
 * Every fixture with an expected/ directory is built by tsbuild and checked against what
 * docker build (BuildKit) produced for the same Dockerfile and context
 * (helpers/differential.ts: skopeo, umoci, the config fields, the history, the tree).
 */
import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tsbuild } from './helpers/cli.js';
import { checkAgainstDocker } from './helpers/differential.js';
import { FIXTURES, fixtureBuildArgs, prepareFixture, removeDir, tempDir } from './helpers/fixtures.js';

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
      await checkAgainstDocker(t, name, { root, tag, archive: `${work}/image.tar`, layout: `${work}/layout`, layoutRef: 'test', scratch: work });
    } finally {
      await removeDir(ctx);
      await removeDir(work);
    }
  });
}
