/**
 * The child program of the isolation probe (isolation.ts): a throwaway process that
 * tries what the sandbox does first (new mount, PID, UTS, IPC and network namespaces, an
 * overlayfs filesystem context) and the kernel calls it needs, and writes one JSON line: for each, ""
 * when it worked or why not. Its namespaces and mounts end with it.
 */
import { kernelFeatures } from './features.js';
import * as libc from './libc.js';

function attempt(what: string, fn: () => void): string {
  try {
    fn();
    return '';
  } catch (err) {
    const e = err as { errno?: string; message?: string };
    return e.errno ? `${what}: ${e.errno}` : `${what}: ${e.message ?? String(err)}`;
  }
}

const out = { mountNamespace: '', namespaces: '', overlay: '', kernel: '' };
out.mountNamespace = attempt('unshare(CLONE_NEWNS)', () => libc.unshare(libc.CLONE.NEWNS));
if (!out.mountNamespace) {
  const { NEWPID, NEWUTS, NEWIPC, NEWNET } = libc.CLONE;
  out.namespaces = attempt('unshare(CLONE_NEWPID|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWNET)', () => libc.unshare(NEWPID | NEWUTS | NEWIPC | NEWNET));
  // A filesystem context, configured and closed without being created: what mounting
  // an overlay takes (the filesystem, the right to mount it) with no mount to tear down,
  // which would cost a grace period (hundreds of milliseconds) at exit.
  out.overlay = attempt('fsopen(overlay)', () => {
    const fs = libc.fsopen('overlay');
    try {
      libc.fsconfig(fs, libc.FSCONFIG.SET_STRING, 'lowerdir', '/');
    } finally {
      libc.close(fs);
    }
  });
}
// The feature probes open filesystem contexts, which takes what the namespaces took.
out.kernel = out.mountNamespace ? 'not tried: no mount namespace' : attempt('kernel', () => kernelFeatures({}));
// eslint-disable-next-line no-restricted-syntax -- a child program: its stdout is its answer to isolation.ts
process.stdout.write(`${JSON.stringify(out)}\n`);
