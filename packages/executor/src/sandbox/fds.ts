/**
 * No fd of tsbuild reaches the command: right before it is spawned, every fd from 3 up
 * is made close-on-exec. The fd table is shared with all of tsbuild, which never execs
 * itself, so that is harmless for it.
 *
 * close_range(CLOSE_RANGE_CLOEXEC) (Linux 5.11) does it in one call. Before that, the
 * open fds are listed from /proc/self/fd and marked one by one; the listing is opened
 * before pivot_root, because afterwards /proc is the sandbox's, where this thread has no
 * PID.
 */
import { opendirSync, type Dir } from 'node:fs';
import type { KernelFeatures } from '../features.js';
import { cloexecFrom, setCloexec } from '../libc.js';

const FIRST = 3;

export interface FdSealer {
  /** Mark every fd from 3 up close-on-exec. Once. */
  seal(): void;
  /** Release what was opened for seal() when it is not called. */
  close(): void;
}

/** Call before pivot_root. */
export function fdSealer(kernel: Pick<KernelFeatures, 'closeRangeCloexec'>): FdSealer {
  if (kernel.closeRangeCloexec) return { seal: () => cloexecFrom(FIRST), close: () => {} };
  let dir: Dir | undefined = opendirSync('/proc/self/fd');
  const close = () => {
    dir?.closeSync();
    dir = undefined;
  };
  return {
    seal() {
      // A bug, never a user's failure: the setup seals before it closes.
      if (!dir) throw new Error('fdSealer: seal() after close()');
      try {
        for (let e = dir.readSync(); e; e = dir.readSync()) {
          const fd = Number(e.name);
          if (Number.isInteger(fd) && fd >= FIRST) setCloexec(fd);
        }
      } finally {
        close();
      }
    },
    close,
  };
}
