/** What the host looks like from outside: our mounts and our processes (to prove nothing is left behind). */
import { readdir, readFile } from 'node:fs/promises';

/** Mount points in the host's mount table that look like ours (overlay/proc/tmpfs under a tsbuild path). */
export async function ourMounts(marker = 'tsbuild'): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').filter((l) => l.includes(marker));
}

/** Processes whose command line contains `needle`. */
export async function processesMatching(needle: string): Promise<number[]> {
  const out: number[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.replace(/\0/g, ' ').includes(needle)) out.push(Number(pid));
  }
  return out;
}
