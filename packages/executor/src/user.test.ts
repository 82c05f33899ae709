import test from 'ava';
import { resolveUser } from './sandbox/user.js';
import { GROUP, PASSWD } from './testing/fixture.js';

test('numeric ids are taken as given, HOME from passwd when the uid has an entry', (t) => {
  t.deepEqual(resolveUser({ uid: 1000, gid: 1000, groups: [5] }, PASSWD, GROUP), { uid: 1000, gid: 1000, groups: [5], home: '/home/tester' });
  t.deepEqual(resolveUser({ uid: 4242, gid: 7 }, PASSWD, GROUP), { uid: 4242, gid: 7, groups: [], home: '/' });
});

test('a name resolves through passwd, its supplementary groups through group', (t) => {
  t.deepEqual(resolveUser('tester', PASSWD, GROUP), { uid: 1000, gid: 1000, groups: [10, 2000], home: '/home/tester' });
  t.deepEqual(resolveUser('root', PASSWD, GROUP), { uid: 0, gid: 0, groups: [2000], home: '/root' });
});

test("user:group forms, as Docker's -u", (t) => {
  t.is(resolveUser('tester:extra', PASSWD, GROUP).gid, 2000);
  t.is(resolveUser('tester:55', PASSWD, GROUP).gid, 55);
  t.deepEqual(resolveUser('1000', PASSWD, GROUP), { uid: 1000, gid: 1000, groups: [10, 2000], home: '/home/tester' });
  t.deepEqual(resolveUser('4242', PASSWD, GROUP), { uid: 4242, gid: 0, groups: [], home: '/' });
  t.deepEqual(resolveUser('4242:4343', null, null), { uid: 4242, gid: 4343, groups: [], home: '/' });
});

test('unknown names are errors; malformed lines are skipped', (t) => {
  t.throws(() => resolveUser('ghost', PASSWD, GROUP), { message: 'unable to find user ghost: no matching entries in passwd file' });
  t.throws(() => resolveUser('tester:ghosts', PASSWD, GROUP), { message: 'unable to find group ghosts: no matching entries in group file' });
  t.throws(() => resolveUser('tester', null, null), { message: /unable to find user tester/ });
  t.throws(() => resolveUser(':1', PASSWD, GROUP), { message: /invalid user/ });
  const messy = '# comment\n\nbroken\nbad:x:notanumber:1:::\napp:x:10001:10001::/srv/app:/bin/sh\n';
  t.deepEqual(resolveUser('app', messy, 'g:x:5:app,other\n'), { uid: 10001, gid: 10001, groups: [5], home: '/srv/app' });
});
