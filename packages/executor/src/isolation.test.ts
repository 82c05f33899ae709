/**
 * The isolation probe and `auto`: here (root, every capability) it picks the sandbox; in
 * a child that lost CAP_SYS_ADMIN (setpriv, util-linux), where unshare is refused as in
 * a container with docker's default capabilities, it picks chroot and a command still
 * runs and leaves its changes in the upper dir. Needs root.
 */
import anyTest from 'ava';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ISOLATIONS, probeIsolation, resolveIsolation, type IsolationReport } from './isolation.js';
import { fx, rootfs, rootOnly, sandboxSuite } from './testing/harness.js';

const test = rootOnly(anyTest);
sandboxSuite(test, { executor: false });
const CHILD = fileURLToPath(new URL('./testing/isolation-child.js', import.meta.url));

test('as root with every capability the sandbox can start, and auto picks it', (t) => {
  const r = probeIsolation();
  t.true(r.machine.root.ok);
  t.true(r.machine.namespaces.ok, r.machine.namespaces.detail);
  t.true(r.modes.sandbox.ok, r.modes.sandbox.detail);
  t.true(r.modes.chroot.ok, r.modes.chroot.detail);
  t.is(r.auto, 'sandbox');
  t.is(resolveIsolation('auto').mode, 'sandbox');
  t.is(resolveIsolation('chroot').mode, 'chroot');
  t.deepEqual(ISOLATIONS, ['auto', 'sandbox', 'rootless', 'chroot']);
  t.false(r.modes.rootless.ok);
  t.is(r.modes.rootless.detail, 'for non-root users; root has the sandbox');
  t.throws(() => resolveIsolation('rootless'), { code: 'TSBUILD_SANDBOX_UNSUPPORTED', message: /rootless isolation is for non-root users.*as root, use sandbox/ });
  t.is(probeIsolation(), r, 'probed once per process');
});

test('without CAP_SYS_ADMIN unshare is refused, auto picks chroot, and a command runs and leaves its changes', async (t) => {
  const layer = fx.layer();
  const { stdout } = await promisify(execFile)('setpriv', ['--inh-caps=-sys_admin', '--bounding-set=-sys_admin', process.execPath, CHILD, rootfs, layer.upperdir, layer.workdir]);
  const got = JSON.parse(stdout) as { report: IsolationReport; mode: string; exitCode: number; out: string };
  t.false(got.report.machine.capSysAdmin.ok);
  t.false(got.report.machine.namespaces.ok);
  t.regex(got.report.machine.namespaces.detail, /^unshare\(CLONE_NEWNS\): EPERM$/);
  t.false(got.report.modes.sandbox.ok);
  t.is(got.report.auto, 'chroot');
  t.is(got.report.autoReason, 'this machine cannot create namespaces: unshare(CLONE_NEWNS): EPERM');
  t.is(got.mode, 'chroot');
  t.is(got.exitCode, 0, got.out);
  t.is(got.out, '0\n');
  t.is(readFileSync(join(layer.upperdir, 'made'), 'utf8'), 'made\n');
});

test('under a seccomp filter that refuses unshare for every flag (as docker\'s default profile does), chroot still runs a command', async (t) => {
  const layer = fx.layer();
  const { stdout } = await promisify(execFile)('setpriv', ['--inh-caps=-sys_admin', '--bounding-set=-sys_admin', process.execPath, CHILD, rootfs, layer.upperdir, layer.workdir, 'seccomp']);
  const got = JSON.parse(stdout) as { report: IsolationReport; mode: string; exitCode: number; out: string };
  t.is(got.report.auto, 'chroot');
  t.is(got.mode, 'chroot');
  t.is(got.exitCode, 0, got.out);
  t.is(got.out, '0\n');
  t.is(readFileSync(join(layer.upperdir, 'made'), 'utf8'), 'made\n');
});

test('the sandbox asked for where it cannot start: the error gives the probe\'s reason and names the mode that can run', async (t) => {
  const script = `import { resolveIsolation } from ${JSON.stringify(new URL('./isolation.js', import.meta.url).href)};
try { resolveIsolation('sandbox'); console.log('no error'); } catch (e) { console.log(e.code + ' ' + e.message); }`;
  const file = join(fx.path('script'), 'sandbox.mjs');
  writeFileSync(file, script);
  const { stdout } = await promisify(execFile)('setpriv', ['--inh-caps=-sys_admin', '--bounding-set=-sys_admin', process.execPath, file]);
  t.is(stdout, 'TSBUILD_SANDBOX_UNSUPPORTED sandbox not available: cannot create namespaces: unshare(CLONE_NEWNS): EPERM; use --isolation chroot, or auto (which picks chroot here)\n');
});

test('a machine where nothing can run: the error names what is missing', async (t) => {
  const dropped = '-sys_admin,-sys_chroot';
  const script = `import { resolveIsolation } from ${JSON.stringify(new URL('./isolation.js', import.meta.url).href)};
try { resolveIsolation('auto'); console.log('no error'); } catch (e) { console.log(e.code + ' ' + e.message); }`;
  const file = join(fx.path('script'), 'nothing.mjs');
  writeFileSync(file, script);
  const { stdout } = await promisify(execFile)('setpriv', [`--inh-caps=${dropped}`, `--bounding-set=${dropped}`, process.execPath, file]);
  t.regex(stdout, /^TSBUILD_SANDBOX_UNSUPPORTED no isolation can run here: sandbox: cannot create namespaces: unshare\(CLONE_NEWNS\): EPERM; rootless: for non-root users; root has the sandbox; chroot: CAP_SYS_CHROOT is not in the effective capability set/);
});
