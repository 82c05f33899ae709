/** A run's stdin stream forwarded to its worker thread as messages; returns the function that stops it. */
import type { RunRequest } from './types.js';

export type StdinMessage = { type: 'stdin'; data: Uint8Array } | { type: 'stdin-end' };

export function pipeStdin(stdin: RunRequest['stdin'], send: (m: StdinMessage) => void): () => void {
  if (!stdin || stdin === 'ignore') return () => {};
  const onData = (chunk: Buffer | string) => send({ type: 'stdin', data: typeof chunk === 'string' ? Buffer.from(chunk) : chunk });
  const onEnd = () => send({ type: 'stdin-end' });
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  return () => {
    stdin.off('data', onData);
    stdin.off('end', onEnd);
  };
}
