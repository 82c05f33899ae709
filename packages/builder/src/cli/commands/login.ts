/** `tsbuild login [REGISTRY] -u USER (--password-stdin | -p PASSWORD)`: credentials into ~/.docker/config.json. */
import { loadRegistryConfig, login as logIn } from '@tsbuild/layerstore';
import type { Readable } from 'node:stream';
import { UsageError } from '../../errors.js';
import { registryFlags, type Command } from '../command.js';

async function readStdin(stdin: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export const login: Command = {
  command: 'login [registry]',
  describe: 'Log in to a registry (default docker.io); credentials go to ~/.docker/config.json',
  builder: (y) =>
    y
      .positional('registry', { type: 'string' })
      .option('username', { alias: 'u', type: 'string' })
      .option('password', { alias: 'p', type: 'string' })
      .option('password-stdin', { type: 'boolean', default: false }),
  handler: async (a, io) => {
    const registry = (a.registry as string | undefined) ?? 'docker.io';
    const username = a.username as string | undefined;
    const given = a.password as string | undefined;
    const passwordStdin = a['password-stdin'] as boolean;
    if (!username) throw new UsageError('login: -u USERNAME is required');
    if (given !== undefined && passwordStdin) throw new UsageError('login: --password and --password-stdin are mutually exclusive');
    let password = given;
    if (passwordStdin) password = await readStdin(io.stdin);
    if (password === undefined || password === '') throw new UsageError('login: give the password with --password-stdin (or -p)');
    if (given !== undefined) io.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    const flags = registryFlags(a);
    const config = await loadRegistryConfig({ env: io.env, mirrors: flags.registryMirror, insecure: flags.insecureRegistry });
    await logIn(registry, { username, password }, { config, env: io.env, signal: io.signal });
    io.stdout.write('Login Succeeded\n');
    return 0;
  },
};
