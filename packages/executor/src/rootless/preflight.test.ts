import test from 'ava';
import { RootlessError } from './errors.js';
import { parseIdMap } from './namespace.js';
import { MIN_SUBIDS, planMapping, type Host } from './preflight.js';
import { idMap, subordinateRanges } from './subids.js';

const host = (over: Partial<Host> = {}): Host => ({
  uid: 1001,
  gid: 1002,
  user: 'alice',
  sysctl: () => undefined,
  subuid: '',
  subgid: '',
  which: (n) => `/usr/bin/${n}`,
  ...over,
});

test('subordinate ranges: by name or by uid, several lines, comments and junk skipped', (t) => {
  const text = '# comment\nbob:100000:65536\nalice:200000:1000\n1001:300000:65536\nalice:x:y\nalice:1:0\n';
  t.deepEqual(subordinateRanges(text, { name: 'alice', id: 1001 }), [{ start: 200000, count: 1000 }, { start: 300000, count: 65536 }]);
  t.deepEqual(subordinateRanges(text, { name: 'carol', id: 7 }), []);
});

test('the map puts the own id at 0 and the ranges after it, as podman does', (t) => {
  t.deepEqual(idMap(1001, [{ start: 100000, count: 65536 }, { start: 300000, count: 10 }]), [
    { inside: 0, outside: 1001, count: 1 },
    { inside: 1, outside: 100000, count: 65536 },
    { inside: 65537, outside: 300000, count: 10 },
  ]);
});

test('without subordinate ids only the own ids are mapped, and newuidmap is not needed', (t) => {
  const m = planMapping(host({ which: () => undefined }));
  t.is(m.kind, 'own-id');
  t.deepEqual(m.uids, [{ inside: 0, outside: 1001, count: 1 }]);
  t.deepEqual(m.gids, [{ inside: 0, outside: 1002, count: 1 }]);
});

test('with subordinate ids both maps go through newuidmap and newgidmap', (t) => {
  const m = planMapping(host({ subuid: 'alice:100000:65536\n', subgid: 'alice:500000:65536\n' }));
  t.is(m.kind, 'subids');
  t.is(m.newuidmap, '/usr/bin/newuidmap');
  t.deepEqual(m.gids[1], { inside: 1, outside: 500000, count: 65536 });
});

test('a missing newuidmap is an error naming Debian\'s uidmap', (t) => {
  const err = t.throws(() => planMapping(host({ subuid: 'alice:100000:65536\n', subgid: 'alice:100000:65536\n', which: (n) => (n === 'newgidmap' ? '/usr/bin/newgidmap' : undefined) })), { instanceOf: RootlessError });
  t.is(err.missing, 'newuidmap');
  t.is(err.code, 'TSBUILD_ROOTLESS_UNAVAILABLE');
  t.regex(err.message, /newuidmap is not installed.*install Debian's uidmap \(apt-get install uidmap\)/);
});

test('too few subordinate ids: how many there are and how to add them', (t) => {
  const err = t.throws(() => planMapping(host({ subuid: 'alice:100000:1000\n', subgid: 'alice:100000:65536\n' })), { instanceOf: RootlessError });
  t.is(err.missing, 'subordinate-ids');
  t.regex(err.message, new RegExp(`alice has 1000 subordinate uids in /etc/subuid; rootless tsbuild needs at least ${MIN_SUBIDS} \\(as root: usermod --add-subuids 100000-165535 alice`));
  const gids = t.throws(() => planMapping(host({ subuid: 'alice:100000:65536\n' })), { instanceOf: RootlessError });
  t.regex(gids.message, /alice has 0 subordinate gids in \/etc\/subgid.*usermod --add-subgids/);
});

for (const [path, name, value] of [
  ['kernel/unprivileged_userns_clone', 'kernel.unprivileged_userns_clone', '0'],
  ['user/max_user_namespaces', 'user.max_user_namespaces', '0'],
  ['kernel/apparmor_restrict_unprivileged_userns', 'kernel.apparmor_restrict_unprivileged_userns', '1'],
] as const) {
  test(`user namespaces turned off by ${name} are named`, (t) => {
    const err = t.throws(() => planMapping(host({ sysctl: (p) => (p === path ? `${value}\n` : p === 'user/max_user_namespaces' ? '1000\n' : undefined) })), { instanceOf: RootlessError });
    t.is(err.missing, 'user-namespaces');
    t.true(err.message.includes(`(${name}=${value})`), err.message);
  });
}

test('sysctls with user namespaces allowed pass', (t) => {
  const on: Record<string, string> = { 'kernel/unprivileged_userns_clone': '1', 'user/max_user_namespaces': '15000', 'kernel/apparmor_restrict_unprivileged_userns': '0' };
  t.is(planMapping(host({ sysctl: (p) => on[p] })).kind, 'own-id');
});

test('id maps parse as /proc prints them', (t) => {
  t.deepEqual(parseIdMap('         0       1001          1\n         1     100000      65536\n'), [
    { inside: 0, outside: 1001, count: 1 },
    { inside: 1, outside: 100000, count: 65536 },
  ]);
  t.deepEqual(parseIdMap(''), []);
});
