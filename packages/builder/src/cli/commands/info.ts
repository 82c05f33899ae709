/**
 * `tsbuild info [--format text|json]`: what this machine allows tsbuild to do, probed
 * (the executor's isolation.ts): each isolation mode, available or not and why, which
 * one `auto` picks, and the facts behind it (root, capabilities, namespaces, overlayfs,
 * cgroups, the kernel's calls).
 */
import { probeIsolation, type Check, type IsolationReport, type MachineReport } from '@tsbuild/executor';
import { UsageError } from '../../errors.js';
import type { Command } from '../command.js';

const FACTS: Array<[keyof MachineReport, string]> = [
  ['root', 'root'],
  ['capSysAdmin', 'CAP_SYS_ADMIN'],
  ['capSysChroot', 'CAP_SYS_CHROOT'],
  ['userNamespaces', 'user namespaces'],
  ['namespaces', 'namespaces (mount, PID, UTS, IPC, network)'],
  ['overlayfs', 'overlayfs'],
  ['cgroups', 'writable cgroups (resource limits)'],
  ['kernel', 'kernel calls of the sandbox'],
];

const shown = (c: Check) => (c.ok ? `yes${c.detail ? ` (${c.detail})` : ''}` : `no: ${c.detail}`);

export function infoText(r: IsolationReport): string {
  const width = Math.max(...FACTS.map(([, label]) => label.length));
  const lines = [
    'Isolation modes:',
    ...(['sandbox', 'chroot'] as const).map((m) => `  ${m.padEnd(8)} ${r.modes[m].ok ? 'available' : `not available: ${r.modes[m].detail}`}`),
    r.auto ? `  auto     picks ${r.auto} (${r.autoReason})` : `  auto     nothing: ${r.autoReason}`,
    '',
    'This machine:',
    ...FACTS.map(([key, label]) => `  ${label.padEnd(width)}  ${shown(r.machine[key])}`),
  ];
  return `${lines.join('\n')}\n`;
}

export const info: Command = {
  command: 'info',
  describe: 'Show what this machine allows: the isolation modes, which one auto picks, and why',
  builder: (y) => y.option('format', { type: 'string', default: 'text', describe: 'text or json' }),
  handler: async (a, io) => {
    const format = String(a.format);
    if (format !== 'text' && format !== 'json') throw new UsageError(`--format ${JSON.stringify(format)}: want text or json`);
    const report = probeIsolation();
    io.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : infoText(report));
    return 0;
  },
};
