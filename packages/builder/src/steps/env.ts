/**
 * An image config's `Env`: `K=V` entries as ENV writes them and RUN, expansion and
 * `tsbuild run` read them, and the PATH a container gets when the image sets none.
 */

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** `K=V` list lookup; the last entry wins. */
export function envValue(env: readonly string[] | undefined, name: string): string | undefined {
  let out: string | undefined;
  for (const e of env ?? []) {
    const eq = e.indexOf('=');
    if ((eq === -1 ? e : e.slice(0, eq)) === name) out = eq === -1 ? '' : e.slice(eq + 1);
  }
  return out;
}

/** Set or replace `name` in a `K=V` list, keeping its position when it exists. */
export function setEnv(env: readonly string[] | undefined, name: string, value: string): string[] {
  const list = [...(env ?? [])];
  const i = list.findIndex((e) => e === name || e.startsWith(`${name}=`));
  if (i === -1) list.push(`${name}=${value}`);
  else list[i] = `${name}=${value}`;
  return list;
}
