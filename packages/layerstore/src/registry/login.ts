/**
 * `tsbuild login` / `logout`: check a username and password against the registry, then
 * store them where docker does (credentials.ts).
 *
 * Checking: `GET /v2/` with the credentials through the normal auth flow: a Basic
 * challenge is answered with them, a Bearer challenge makes the token server judge them
 * (no scope needed); the registry must then answer 200. A registry that asks for no
 * credentials accepts any (as with docker login).
 */
import { canonicalRegistry, type RegistryConfig } from './config.js';
import { removeCredentials, saveCredentials } from './credentials.js';
import { pushEndpoint } from './endpoints.js';
import { withContext } from './errors.js';
import { discard } from './http.js';
import { RegistryClient, type RegistryClientOptions } from './client.js';
import { openSession } from './runtime.js';

export interface LoginOptions extends Omit<RegistryClientOptions, 'credentials'> {
  config?: RegistryConfig;
  /** Check only; do not write the credentials. */
  verifyOnly?: boolean;
  signal?: AbortSignal;
}

export async function login(registry: string, creds: { username: string; password: string }, opts: LoginOptions = {}): Promise<void> {
  const reg = canonicalRegistry(registry);
  const client = new RegistryClient({ ...opts, credentials: () => creds });
  try {
    const endpoint = await pushEndpoint(opts.config ?? {}, reg);
    const session = openSession(client.runtime, endpoint, '', [], opts.signal);
    const res = await session.request({ method: 'GET', url: '/v2/', what: 'login' });
    await session.expect(res, [200], 'login');
    discard(res);
  } catch (err) {
    throw withContext(err, `login to ${reg} as ${creds.username}`, reg, reg);
  } finally {
    client.close();
  }
  if (!opts.verifyOnly) await saveCredentials(reg, creds, opts.env ?? process.env);
}

/** Remove stored credentials; true when there were some. */
export async function logout(registry: string, opts: { env?: NodeJS.ProcessEnv } = {}): Promise<boolean> {
  return removeCredentials(canonicalRegistry(registry), opts.env ?? process.env);
}
