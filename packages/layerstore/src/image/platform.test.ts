/** The one platform module: containerd's normalisation, the errors, the two comparisons. */
import test from 'ava';
import { formatPlatform, hostPlatform, isHostPlatform, parsePlatform, platformMatches, platformOf, samePlatform } from './platform.js';
import type { Platform } from './types.js';

function parsed(spec: string): Platform {
  const r = parsePlatform(spec);
  if ('invalid' in r) throw new Error(`${spec}: ${r.invalid}`);
  return r.platform;
}

const cases: Array<[string, string]> = [
  ['linux/amd64', 'linux/amd64'],
  ['linux/x86_64', 'linux/amd64'],
  ['Linux/X86-64', 'linux/amd64'],
  ['linux/amd64/v1', 'linux/amd64'],
  ['linux/amd64/v3', 'linux/amd64/v3'],
  ['linux/aarch64', 'linux/arm64'],
  ['linux/aarch64/v8', 'linux/arm64'],
  ['linux/arm64/v8', 'linux/arm64'],
  ['linux/arm64/8', 'linux/arm64'],
  ['linux/arm64/v9', 'linux/arm64/v9'],
  ['linux/armhf', 'linux/arm/v7'],
  ['linux/armel', 'linux/arm/v6'],
  ['linux/arm', 'linux/arm/v7'],
  ['linux/arm/7', 'linux/arm/v7'],
  ['linux/arm/6', 'linux/arm/v6'],
  ['linux/arm/v5', 'linux/arm/v5'],
  ['linux/ARM/V6', 'linux/arm/v6'],
  ['linux/i386', 'linux/386'],
  ['LINUX/amd64', 'linux/amd64'],
  ['macos/arm64', 'darwin/arm64'],
  ['windows/amd64', 'windows/amd64'],
  ['linux/riscv64', 'linux/riscv64'],
];

for (const [spec, want] of cases) {
  test(`parsePlatform ${spec}`, (t) => {
    t.is(formatPlatform(parsed(spec)), want);
  });
}

test('one word: an OS or an architecture, completed from this machine', (t) => {
  const host = hostPlatform();
  t.is(parsed('linux').os, 'linux');
  t.true(samePlatform(parsed('linux'), host));
  t.deepEqual(parsed('s390x'), { os: host.os, architecture: 's390x' });
  t.deepEqual(parsed('aarch64'), { os: host.os, architecture: 'arm64' });
});

test('malformed, unknown or missing parts say what is wrong', (t) => {
  for (const [spec, why] of [
    ['foo/bar', /unknown operating system "foo"/],
    ['linux/bar', /unknown architecture "bar"/],
    ['foo', /unknown operating system or architecture "foo"/],
    ['', /expected OS\/ARCH/],
    ['linux/', /expected OS\/ARCH/],
    ['/amd64', /expected OS\/ARCH/],
    ['linux/amd64/', /expected OS\/ARCH/],
    ['linux/amd64/v2/x', /expected OS\/ARCH/],
    ['linux//amd64', /expected OS\/ARCH/],
    ['linux/amd64 ', /expected OS\/ARCH/],
  ] as const) {
    const r = parsePlatform(spec);
    t.true('invalid' in r, spec);
    if ('invalid' in r) t.regex(r.invalid, why, spec);
  }
});

test('the host platform, however written, is the host', (t) => {
  const host = hostPlatform();
  t.true(isHostPlatform(host));
  t.true(isHostPlatform(parsed(formatPlatform(host))));
  t.false(isHostPlatform({ os: 'linux', architecture: host.architecture === 'amd64' ? 'arm64' : 'amd64' }));
  t.false(isHostPlatform({ os: 'windows', architecture: host.architecture }));
  t.true(samePlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }, { os: 'linux', architecture: 'aarch64' }));
  t.false(samePlatform({ os: 'linux', architecture: 'arm', variant: 'v6' }, { os: 'linux', architecture: 'arm' }));
});

test('an index entry matches the wanted platform; a variant left out on either side matches any', (t) => {
  const arm64 = { os: 'linux', architecture: 'arm64' };
  t.true(platformMatches({ ...arm64, variant: 'v8' }, arm64));
  t.true(platformMatches(arm64, { ...arm64, variant: 'v8' }));
  t.true(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm', variant: 'v7' }));
  t.false(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v6' }, { os: 'linux', architecture: 'arm', variant: 'v7' }));
  t.false(platformMatches({ os: 'linux', architecture: 'amd64' }, arm64));
  t.false(platformMatches({ os: 'windows', architecture: 'arm64' }, arm64));
  t.false(platformMatches(undefined, arm64));
});

test("an image config's platform: index entries' key order, no empty variant", (t) => {
  t.deepEqual(Object.keys(platformOf({ os: 'linux', variant: 'v7', architecture: 'arm' })), ['architecture', 'os', 'variant']);
  t.deepEqual(platformOf({ os: 'linux', architecture: 'amd64', variant: '' }), { architecture: 'amd64', os: 'linux' });
});
