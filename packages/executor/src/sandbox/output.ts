/**
 * The command's stdout and stderr, read from the ends of its pipes and sent as chunks on
 * the caller's channel (the sandbox worker's port, the chroot runner's IPC); `closed`
 * runs each time one of them reaches EOF.
 */
import { Socket } from 'node:net';
import { constants } from 'node:os';

export function streamOutput(fds: { stdout: number; stderr: number }, send: (m: { type: 'stdout' | 'stderr'; data: Buffer }) => void, closed: () => void): void {
  for (const [fd, type] of [[fds.stdout, 'stdout'], [fds.stderr, 'stderr']] as const) {
    const s = new Socket({ fd, readable: true, writable: false });
    s.on('data', (data: Buffer) => send({ type, data }));
    s.on('error', () => {});
    s.on('close', closed);
  }
}

/** A chunk as it arrives over a worker's port or a runner's IPC channel, as a Buffer again. */
export function bytesOf(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** How the command ended, as RunResult says it: a signal is 128 + its number, as a shell reports it. */
export function exitOf(m: { code: number | null; signal: string | null }): { exitCode: number; signal?: string } {
  const signal = m.signal ?? undefined;
  const exitCode = m.code ?? 128 + (signal ? (constants.signals as Record<string, number>)[signal] ?? 0 : 0);
  return { exitCode, ...(signal ? { signal } : {}) };
}
