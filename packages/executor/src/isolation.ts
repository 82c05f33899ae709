/**
 * Isolation modes, and what this machine allows, found once per process:
 *
 * - `sandbox`: today's namespace sandbox (executor.ts): needs root, CAP_SYS_ADMIN, new
 *   mount/PID/UTS/IPC/network namespaces (which docker's default seccomp profile refuses)
 *   and overlayfs;
 * - `chroot`: a copied root and chroot(2) (chroot/): needs root with CAP_SYS_CHROOT, as
 *   in a container started with docker's default capabilities;
 * - `rootless`: the same sandbox run by a non-root user, as root of a user namespace
 *   tsbuild re-executes itself into (rootless/): needs unprivileged user namespaces and,
 *   for ids other than the user's own, subordinate ids with newuidmap/newgidmap;
 * - `auto`: the sandbox where it can start, else chroot, else an
 *   IsolationUnavailableError naming what is missing; for a non-root user, rootless.
 *
 * The probe tries things rather than guessing: the namespaces and an overlayfs context in a
 * throwaway child process (isolation-probe.ts: it cannot be done in tsbuild itself, whose
 * namespaces must stay as they are), a user namespace through util-linux's `unshare -U`
 * (a multithreaded process such as Node cannot make one), the capabilities from
 * /proc/self/status, a writable cgroup hierarchy from access(2).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants as fsc, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ExecutorError } from './errors.js';
import { userNamespace, type UserNamespace } from './rootless/namespace.js';
import { planMapping, thisHost } from './rootless/preflight.js';

export type Isolation = 'auto' | 'sandbox' | 'rootless' | 'chroot';
export type IsolationMode = Exclude<Isolation, 'auto'>;
export const ISOLATIONS: readonly Isolation[] = ['auto', 'sandbox', 'rootless', 'chroot'];

/** One thing this machine allows or not; `detail` says why not (or, when ok, what was found). */
export interface Check {
  ok: boolean;
  detail: string;
}

export interface MachineReport {
  root: Check;
  capSysAdmin: Check;
  capSysChroot: Check;
  userNamespaces: Check;
  /** New mount, PID, UTS, IPC and network namespaces. */
  namespaces: Check;
  overlayfs: Check;
  cgroups: Check;
  /** The kernel calls the sandbox needs (features.ts). */
  kernel: Check;
}

export interface IsolationReport {
  machine: MachineReport;
  modes: Record<IsolationMode, Check>;
  /** What `auto` picks; undefined when nothing can run here. */
  auto: IsolationMode | undefined;
  /** Why `auto` picks it (or why nothing). */
  autoReason: string;
}

/** No isolation mode that can run here (or the one asked for cannot): the message says what is missing and what to do. */
export class IsolationUnavailableError extends ExecutorError {
  constructor(readonly isolation: Isolation, message: string) {
    super('TSBUILD_SANDBOX_UNSUPPORTED', message);
    this.name = 'IsolationUnavailableError';
  }
}

const CAP_SYS_CHROOT = 18n;
const CAP_SYS_ADMIN = 21n;
const PROBE = fileURLToPath(new URL('./isolation-probe.js', import.meta.url));

function effectiveCaps(): bigint {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

const yes = (detail = ''): Check => ({ ok: true, detail });
const no = (detail: string): Check => ({ ok: false, detail });

function capCheck(caps: bigint, bit: bigint, name: string): Check {
  return (caps >> bit) & 1n ? yes() : no(`${name} is not in the effective capability set`);
}

function userNamespaces(): Check {
  const r = spawnSync('unshare', ['--user', 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return no(`cannot try (util-linux's unshare: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`);
  return r.status === 0 ? yes() : no(r.stderr.trim().replace(/^unshare: /, '') || `unshare --user exited ${r.status}`);
}

function cgroups(): Check {
  try {
    accessSync('/sys/fs/cgroup', fsc.W_OK);
    return yes();
  } catch (err) {
    return no(`/sys/fs/cgroup is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

interface ProbeAnswer {
  mountNamespace: string;
  namespaces: string;
  overlay: string;
  kernel: string;
}

function sandboxProbe(): ProbeAnswer {
  const r = spawnSync(process.execPath, [PROBE], { encoding: 'utf8', timeout: 30_000 });
  try {
    return JSON.parse(r.stdout) as ProbeAnswer;
  } catch {
    const why = `the probe failed (${r.error?.message ?? `exit ${r.status}`}${r.stderr ? `: ${r.stderr.trim().split('\n').pop()}` : ''})`;
    return { mountNamespace: why, namespaces: why, overlay: why, kernel: why };
  }
}

let cached: IsolationReport | undefined;

/** What this machine allows, probed once per process. */
export function probeIsolation(): IsolationReport {
  if (cached) return cached;
  const uid = process.getuid?.() ?? -1;
  const caps = effectiveCaps();
  const root = uid === 0 ? yes('uid 0') : no(`running as uid ${uid}`);
  const capSysAdmin = capCheck(caps, CAP_SYS_ADMIN, 'CAP_SYS_ADMIN');
  const capSysChroot = capCheck(caps, CAP_SYS_CHROOT, 'CAP_SYS_CHROOT');
  const p: ProbeAnswer = uid === 0 ? sandboxProbe() : { mountNamespace: 'not tried: not root', namespaces: '', overlay: '', kernel: 'not tried: not root' };
  const mountns = p.mountNamespace ? no(p.mountNamespace) : yes();
  const machine: MachineReport = {
    root,
    capSysAdmin,
    capSysChroot,
    userNamespaces: userNamespaces(),
    namespaces: mountns.ok ? (p.namespaces ? no(p.namespaces) : yes()) : mountns,
    overlayfs: !mountns.ok ? no('not tried: no mount namespace to mount it in') : p.overlay ? no(p.overlay) : yes(),
    cgroups: cgroups(),
    kernel: p.kernel ? no(p.kernel) : yes(),
  };
  const sandbox = sandboxCheck(machine);
  const chroot = !root.ok ? no(`needs root (${root.detail})`) : !capSysChroot.ok ? no(capSysChroot.detail) : yes();
  const rootless = rootlessCheck(machine);
  const auto = sandbox.ok ? 'sandbox' : rootless.ok ? 'rootless' : chroot.ok ? 'chroot' : undefined;
  const autoReason = sandbox.ok ? 'the sandbox can start' : rootless.ok ? `not root: ${rootless.detail}` : chroot.ok ? `this machine ${sandbox.detail}` : nothingRuns(machine, sandbox, chroot, rootless);
  cached = { machine, modes: { sandbox, rootless, chroot }, auto, autoReason };
  return cached;
}

/** Rootless from outside: a non-root user whose user namespaces and id maps are possible (rootless/preflight.ts). */
function rootlessCheck(m: MachineReport): Check {
  if (userNamespace()) return yes(rootlessReason(userNamespace()!));
  if (m.root.ok) return no('for non-root users; root has the sandbox');
  if (!m.userNamespaces.ok) return no(`cannot create a user namespace: ${m.userNamespaces.detail}`);
  try {
    const mapping = planMapping(thisHost());
    return yes(mapping.kind === 'subids' ? 'a user namespace with your subordinate ids (newuidmap)' : 'a user namespace mapping only your own id (no subordinate ids in /etc/subuid)');
  } catch (err) {
    return no((err as Error).message);
  }
}

function rootlessReason(ns: UserNamespace): string {
  return ns.ownIdOnly ? 'a user namespace mapping only your own id' : `a user namespace with ${ns.uids.reduce((n, r) => n + r.count, 0)} ids`;
}

function sandboxCheck(m: MachineReport): Check {
  if (!m.root.ok) return no(`needs root (${m.root.detail})`);
  if (!m.namespaces.ok) return no(`cannot create namespaces: ${m.namespaces.detail}`);
  if (!m.overlayfs.ok) return no(`cannot mount overlayfs: ${m.overlayfs.detail}`);
  if (!m.kernel.ok) return no(m.kernel.detail);
  return yes();
}

function nothingRuns(m: MachineReport, sandbox: Check, chroot: Check, rootless: Check): string {
  const base = `no isolation can run here: sandbox: ${sandbox.detail}; rootless: ${rootless.detail}; chroot: ${chroot.detail}`;
  if (!m.root.ok) return `${base}. Run tsbuild as root, or make rootless possible (above)`;
  return `${base}. Run tsbuild as root with CAP_SYS_ADMIN for the sandbox, or keep CAP_SYS_CHROOT for chroot isolation`;
}

/** The mode to run with for `wanted`, and why (for the once-printed notice). Throws IsolationUnavailableError. */
export function resolveIsolation(wanted: Isolation): { mode: IsolationMode; reason: string } {
  // Re-executed rootless (rootless/reexec.ts): root of a user namespace runs the sandbox in it.
  const ns = userNamespace();
  if (ns && (wanted === 'auto' || wanted === 'rootless')) return { mode: 'rootless', reason: rootlessReason(ns) };
  if (wanted === 'rootless') {
    throw new IsolationUnavailableError(wanted, (process.getuid?.() ?? -1) === 0
      ? 'rootless isolation is for non-root users (tsbuild re-executes itself in a user namespace when started by one); as root, use sandbox'
      : 'rootless isolation starts when tsbuild is started by a non-root user: it re-executes itself in a user namespace (its entry point did not)');
  }
  if (wanted === 'sandbox') {
    // Without CAP_SYS_ADMIN (a container with docker's default capabilities, a non-root
    // user) it cannot start: probed then, to say why, as `tsbuild info` does.
    if (!capCheck(effectiveCaps(), CAP_SYS_ADMIN, 'CAP_SYS_ADMIN').ok) {
      const r = probeIsolation();
      if (!r.modes.sandbox.ok) throw new IsolationUnavailableError(wanted, `sandbox not available: ${r.modes.sandbox.detail}; ${r.auto ? `use --isolation ${r.auto}, or auto (which picks ${r.auto} here)` : r.autoReason}`);
    }
    return { mode: 'sandbox', reason: 'asked for' };
  }
  if (wanted === 'chroot') {
    const uid = process.getuid?.() ?? -1;
    if (uid !== 0) throw new IsolationUnavailableError(wanted, `chroot isolation needs root (running as uid ${uid})`);
    const c = capCheck(effectiveCaps(), CAP_SYS_CHROOT, 'CAP_SYS_CHROOT');
    if (!c.ok) throw new IsolationUnavailableError(wanted, `chroot isolation needs CAP_SYS_CHROOT: ${c.detail}`);
    return { mode: 'chroot', reason: 'asked for' };
  }
  const r = probeIsolation();
  if (!r.auto) throw new IsolationUnavailableError(wanted, r.autoReason);
  return { mode: r.auto, reason: r.autoReason };
}
