/** Where the hierarchies and tsbuild's cgroup are, from the mountinfo and /proc/self/cgroup of real host kinds. */
import test from 'ava';
import { parseLayout } from './layout.js';

const SYSTEMD_V2 = {
  mountinfo: [
    '22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
    '26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot',
  ].join('\n'),
  cgroup: '0::/system.slice/actions.runner.service\n',
};

test('pure cgroup v2 of a systemd host: own cgroup under /sys/fs/cgroup, no v1', (t) => {
  const l = parseLayout(SYSTEMD_V2.mountinfo, SYSTEMD_V2.cgroup);
  t.deepEqual(l.v2, { mount: '/sys/fs/cgroup', own: '/sys/fs/cgroup/system.slice/actions.runner.service' });
  t.is(l.v1.size, 0);
});

test('v2 in a container cgroup namespace: own is the mount itself', (t) => {
  const l = parseLayout('700 600 0:30 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate\n', '0::/\n');
  t.deepEqual(l.v2, { mount: '/sys/fs/cgroup', own: '/sys/fs/cgroup' });
});

test('a bind-mounted subtree: paths are taken relative to the mount root', (t) => {
  const l = parseLayout('40 30 0:30 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n', '0::/kubepods/pod1/ctr\n');
  t.deepEqual(l.v2, { mount: '/sys/fs/cgroup', own: '/sys/fs/cgroup/ctr' });
});

test('own cgroup outside every mount: no hierarchy is usable', (t) => {
  const l = parseLayout('40 30 0:30 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n', '0::/system.slice/other\n');
  t.is(l.v2, undefined);
});

test('hybrid (this kind of host): v1 controllers, each in its own hierarchy, plus an empty unified v2', (t) => {
  const mountinfo = [
    '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
    '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
    '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  ].join('\n');
  const cgroup = '9:name=systemd:/\n8:pids:/\n4:memory:/process_api/0728\n1:cpu:/\n0::/\n';
  const l = parseLayout(mountinfo, cgroup);
  t.deepEqual(Object.fromEntries(l.v1), { pids: '/sys/fs/cgroup/pids', memory: '/sys/fs/cgroup/memory/process_api/0728', cpu: '/sys/fs/cgroup/cpu' });
  t.deepEqual(l.v2, { mount: '/sys/fs/cgroup/unified', own: '/sys/fs/cgroup/unified' });
});

test('co-mounted v1 controllers and escaped mount points', (t) => {
  const mountinfo = '33 25 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n34 25 0:30 /docker/abc /mnt/my\\040cgroups rw - cgroup cgroup rw,pids\n';
  const l = parseLayout(mountinfo, '5:cpu,cpuacct:/docker/abc\n3:pids:/docker/abc/x\n');
  t.is(l.v1.get('cpu'), '/sys/fs/cgroup/cpu,cpuacct/docker/abc');
  t.is(l.v1.get('cpuacct'), '/sys/fs/cgroup/cpu,cpuacct/docker/abc');
  t.is(l.v1.get('pids'), '/mnt/my cgroups/x');
});

test('a hierarchy hidden under a later mount (a tmpfs over /sys/fs/cgroup) is not there', (t) => {
  const mountinfo = [
    '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
    '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
    '90 31 0:60 / /sys/fs/cgroup rw,relatime - tmpfs none rw',
    '91 90 0:61 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  ].join('\n');
  const l = parseLayout(mountinfo, '4:memory:/x\n0::/\n');
  t.is(l.v1.size, 0);
  t.deepEqual(l.v2, { mount: '/sys/fs/cgroup/unified', own: '/sys/fs/cgroup/unified' }, 'mounted again on top: visible');
});

test('nothing mounted', (t) => {
  const l = parseLayout('22 1 0:21 / /sys rw - sysfs sysfs rw\n', '0::/\n');
  t.is(l.v2, undefined);
  t.is(l.v1.size, 0);
});
