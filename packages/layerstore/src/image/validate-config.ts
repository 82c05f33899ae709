/**
 * The shape of an image config (what `docker build` writes, OCI's plus Docker's `config`
 * members), checked where a config is read: wrong types are refused the way Go's
 * encoding/json refuses them (`"Env": "a=b"` is an error, `"Env": null` is no Env), so a
 * base image cannot smuggle a string where the builder expects a list.
 */
import { isDigest } from '../digest.js';
import { isJsonObject } from './json.js';
import type { ImageConfig } from './types.js';
import { badDocument, checkString, checkStringMap, checkStrings, type Bad } from './validate.js';

const absent = (v: unknown): boolean => v === undefined || v === null;

function checkType(v: unknown, type: 'boolean' | 'number', at: string, bad: Bad): void {
  if (!absent(v) && typeof v !== type) throw bad(`${at} is not a ${type}`);
}

/** An object whose values are objects (`ExposedPorts`, `Volumes`: `{"80/tcp": {}}`). */
function checkSet(v: unknown, at: string, bad: Bad): void {
  if (absent(v)) return;
  if (!isJsonObject(v)) throw bad(`${at} is not an object`);
  for (const [k, e] of Object.entries(v)) if (!absent(e) && !isJsonObject(e)) throw bad(`${at}[${JSON.stringify(k)}] is not an object`);
}

function checkContainerConfig(v: unknown, bad: Bad): void {
  if (absent(v)) return;
  if (!isJsonObject(v)) throw bad('config is not an object');
  for (const key of ['User', 'WorkingDir', 'StopSignal']) checkString(v[key], `config.${key}`, bad);
  for (const key of ['Env', 'Entrypoint', 'Cmd', 'OnBuild', 'Shell']) checkStrings(v[key], `config.${key}`, bad);
  checkStringMap(v.Labels, 'config.Labels', bad);
  checkSet(v.ExposedPorts, 'config.ExposedPorts', bad);
  checkSet(v.Volumes, 'config.Volumes', bad);
  checkType(v.ArgsEscaped, 'boolean', 'config.ArgsEscaped', bad);
  const health = v.Healthcheck;
  if (absent(health)) return;
  if (!isJsonObject(health)) throw bad('config.Healthcheck is not an object');
  checkStrings(health.Test, 'config.Healthcheck.Test', bad);
  for (const key of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries']) checkType(health[key], 'number', `config.Healthcheck.${key}`, bad);
}

function checkHistory(v: unknown, bad: Bad): void {
  if (absent(v)) return;
  if (!Array.isArray(v)) throw bad('history is not a list');
  v.forEach((h, i) => {
    if (!isJsonObject(h)) throw bad(`history[${i}] is not an object`);
    for (const key of ['created', 'created_by', 'author', 'comment']) checkString(h[key], `history[${i}].${key}`, bad);
    checkType(h.empty_layer, 'boolean', `history[${i}].empty_layer`, bad);
  });
}

/** An image config: `what` names it in errors. */
export function asImageConfig(v: unknown, what: string, bad: Bad = badDocument(what)): ImageConfig {
  if (!isJsonObject(v)) throw bad('not a JSON object');
  if (typeof v.os !== 'string' || typeof v.architecture !== 'string') throw bad('not an image config (no os/architecture)');
  for (const key of ['variant', 'created', 'author']) checkString(v[key], key, bad);
  const rootfs = v.rootfs;
  if (!isJsonObject(rootfs) || !Array.isArray(rootfs.diff_ids) || !rootfs.diff_ids.every(isDigest)) {
    throw bad('rootfs.diff_ids is missing or has an invalid digest');
  }
  checkString(rootfs.type, 'rootfs.type', bad);
  checkContainerConfig(v.config, bad);
  checkHistory(v.history, bad);
  return v as unknown as ImageConfig;
}
