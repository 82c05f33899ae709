import test from 'ava';
import { legacyOptions } from './rootfs.js';

const rootfs = (lowerdirs: string[]) => ({ lowerdirs, upperdir: '/u', workdir: '/w', readonly: false, throwaway: false });

test('before lowerdir+: full paths, escaped, when they fit in a page', (t) => {
  const { data, byFd } = legacyOptions(rootfs(['/a:b', '/c,d', '/e\\f']), [10, 11, 12, 13, 14]);
  t.false(byFd);
  t.is(data, 'lowerdir=/a\\:b:/c\\,d:/e\\\\f,upperdir=/u,workdir=/w,index=off,redirect_dir=off,metacopy=off');
});

test('before lowerdir+: fd numbers when the paths do not fit, 500 layers included', (t) => {
  const lowers = Array.from({ length: 500 }, (_, i) => `/var/lib/tsbuild/snapshots/${String(i).padStart(64, '0')}`);
  const fds = Array.from({ length: 502 }, (_, i) => 1000 + i);
  const { data, byFd } = legacyOptions(rootfs(lowers), fds);
  t.true(byFd);
  t.true(data.startsWith('lowerdir=1000:1001:'));
  t.true(data.endsWith(':1499,upperdir=1500,workdir=1501,index=off,redirect_dir=off,metacopy=off'));
  t.true(data.length < 4096);
});

test('before lowerdir+: an error naming Linux 6.8 when not even fd numbers fit', (t) => {
  const lowers = Array.from({ length: 500 }, (_, i) => `/l/${String(i).padStart(64, '0')}`);
  const fds = Array.from({ length: 502 }, (_, i) => 10_000_000 + i);
  const err = t.throws(() => legacyOptions(rootfs(lowers), fds));
  t.is((err as { code?: string }).code, 'TSBUILD_SANDBOX_UNSUPPORTED');
  t.regex(err!.message, /500 layers do not fit .*Linux 6\.8\+ \(overlayfs lowerdir\+\)/);
});
