/**
 * A node:20 base made from what is already on this machine, for the node workload
 * (fixtures/unprivileged/node): debian:bookworm (debian.ts) plus the host's node binary,
 * its npm, and the host's CA bundle, which node is told to trust as well
 * (NODE_EXTRA_CA_CERTS), as npm must where the registry is reached through a proxy whose
 * CA only the host's bundle holds. Built by tsbuild on the host, with COPY only.
 */
import { chmod, copyFile, cp, mkdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run, tsbuild } from './cli.js';
import { exists, removeDir, tempDir } from './fixtures.js';

export const NODE_BASE = 'node:20';
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** npm as installed beside the host's node (<prefix>/bin/node, <prefix>/lib/node_modules/npm). */
async function hostNpm(node: string): Promise<string> {
  const dir = join(dirname(dirname(node)), 'lib/node_modules/npm');
  if (!(await exists(join(dir, 'bin/npm-cli.js')))) throw new Error(`no npm beside ${node} (looked for ${dir}): the node workload's base needs the host's npm`);
  return dir;
}

/** Build NODE_BASE into `root`, a store that holds debian:bookworm. */
export async function buildNodeBase(root: string): Promise<void> {
  const node = await realpath(process.execPath);
  const npm = await hostNpm(node);
  const ctx = await tempDir('node-base');
  try {
    await copyFile(node, join(ctx, 'node'));
    await cp(npm, join(ctx, 'npm'), { recursive: true, verbatimSymlinks: true });
    await mkdir(join(ctx, 'bin'));
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(ctx, 'bin/npm'));
    await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(ctx, 'bin/npx'));
    await copyFile(HOST_CA_BUNDLE, join(ctx, 'ca-certificates.crt'));
    await chmod(join(ctx, 'ca-certificates.crt'), 0o644);
    const version = (await run(node, ['--version'])).stdout.trim().replace(/^v/, '');
    await writeFile(
      join(ctx, 'Dockerfile'),
      [
        'FROM debian:bookworm',
        'COPY node /usr/local/bin/node',
        'COPY npm/ /usr/local/lib/node_modules/npm/',
        'COPY bin/ /usr/local/bin/',
        'COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt',
        `ENV NODE_VERSION=${version} NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt`,
        'CMD ["node"]',
        '',
      ].join('\n'),
    );
    const res = await tsbuild(['build', '-q', '-t', NODE_BASE, ctx], { root });
    if (res.code !== 0) throw new Error(`building ${NODE_BASE} from the host's node failed: ${res.stderr}`);
  } finally {
    await removeDir(ctx);
  }
}
