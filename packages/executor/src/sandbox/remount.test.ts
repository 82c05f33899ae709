import test from 'ava';
import { MOUNT_ATTR as A, MS } from '../libc.js';
import { parseMountinfo, remountFlags } from './remount.js';

const MOUNTINFO = `1 0 0:32 / / ro,nodev,relatime - overlay overlay rw,lowerdir=1
2 1 0:40 / /mnt/with\\040space rw,nosuid,relatime shared:3 - tmpfs tmpfs rw
3 2 0:41 / /mnt/with\\040space/sub rw,noexec - tmpfs tmpfs rw
`;

test('mountinfo: mount points unescaped, per-mount options only', (t) => {
  const e = parseMountinfo(MOUNTINFO);
  t.deepEqual(e.map((x) => x.mountPoint), ['/', '/mnt/with space', '/mnt/with space/sub']);
  t.deepEqual([...e[1]!.options], ['rw', 'nosuid', 'relatime']);
});

test('remount flags: the mount\'s own, plus set, minus clear; never an atime flag', (t) => {
  const [root, mnt, sub] = parseMountinfo(MOUNTINFO);
  t.is(remountFlags(root!.options, { set: A.RDONLY }), MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NODEV);
  t.is(remountFlags(mnt!.options, { set: A.RDONLY | A.NODEV, clear: A.NOSUID }), MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NODEV);
  t.is(remountFlags(sub!.options, { clear: A.NOEXEC | A.RDONLY }), MS.REMOUNT | MS.BIND);
  t.is(remountFlags(root!.options, { clear: A.RDONLY }), MS.REMOUNT | MS.BIND | MS.NODEV);
});
