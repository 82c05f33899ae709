import test from 'ava';
import { processUser } from './sandbox/user.js';
import { GROUP, PASSWD } from './testing/fixture.js';

// The sandbox resolves a spec string like `docker run --user`; the recorded answers of
// docker itself are checked case by case in user/docker-recorded.test.ts.
const files = { passwd: PASSWD, group: GROUP };

test('numeric ids are taken as given, HOME from passwd when the uid has an entry', (t) => {
  t.deepEqual(processUser({ uid: 1000, gid: 1000, groups: [5] }, files), { uid: 1000, gid: 1000, groups: [5], home: '/home/tester' });
  t.deepEqual(processUser({ uid: 4242, gid: 7 }, files), { uid: 4242, gid: 7, groups: [], home: '/' });
});

test('a name resolves through passwd; its groups are its primary group and those that list it, as docker run gives them', (t) => {
  t.deepEqual(processUser('tester', files), { uid: 1000, gid: 1000, groups: [1000, 10, 2000], home: '/home/tester' });
  t.deepEqual(processUser('root', files), { uid: 0, gid: 0, groups: [0, 2000], home: '/root' });
});

test("user:group forms, as Docker's -u", (t) => {
  t.is(processUser('tester:extra', files).gid, 2000);
  t.deepEqual(processUser('tester:55', files), { uid: 1000, gid: 55, groups: [55], home: '/home/tester' });
  t.deepEqual(processUser('1000', files), { uid: 1000, gid: 1000, groups: [1000, 10, 2000], home: '/home/tester' });
  t.deepEqual(processUser('4242', files), { uid: 4242, gid: 0, groups: [0], home: '/' });
  t.deepEqual(processUser('4242:4343', { passwd: null, group: null }), { uid: 4242, gid: 4343, groups: [4343], home: '/' });
  t.deepEqual(processUser(':1', files), { uid: 0, gid: 1, groups: [1], home: '/root' });
});

test('unknown names are errors with stable codes; odd lines are read as runc reads them', (t) => {
  t.throws(() => processUser('ghost', files), { code: 'TSBUILD_USER_UNKNOWN', message: 'unable to find user ghost: no matching entries in passwd file' });
  t.throws(() => processUser('tester:ghosts', files), { code: 'TSBUILD_GROUP_UNKNOWN', message: 'unable to find group ghosts: no matching entries in group file' });
  t.throws(() => processUser('tester', { passwd: null, group: null }), { code: 'TSBUILD_USER_UNKNOWN', message: /unable to find user tester/ });
  t.throws(() => processUser('2147483648', files), { code: 'TSBUILD_USER_ID_RANGE', message: 'uids and gids must be in range 0-2147483647' });
  const messy = '# comment\n\nbroken\nbad:x:notanumber:1:::\napp:x:10001:10001::/srv/app:/bin/sh\n';
  t.deepEqual(processUser('app', { passwd: messy, group: 'g:x:5:app,other\n' }), { uid: 10001, gid: 10001, groups: [10001, 5], home: '/srv/app' });
  // A number that is not one reads as 0: `bad` is uid 0 with gid 1. HOME is that of the
  // first entry with uid 0, and that is `# comment` (passwd has no comments) with no home.
  t.deepEqual(processUser('bad', { passwd: messy, group: null }), { uid: 0, gid: 1, groups: [1], home: '' });
});
