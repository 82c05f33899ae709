import test from 'ava';
import { BuildError } from '../errors.js';
import { formatPlatform, hostPlatform, isHostPlatform, parsePlatform, platformArgs, samePlatform } from './platform.js';

const cases: Array<[string, string]> = [
  ['linux/amd64', 'linux/amd64'],
  ['linux/x86_64', 'linux/amd64'],
  ['Linux/X86-64', 'linux/amd64'],
  ['linux/amd64/v1', 'linux/amd64'],
  ['linux/amd64/v3', 'linux/amd64/v3'],
  ['linux/aarch64', 'linux/arm64'],
  ['linux/arm64/v8', 'linux/arm64'],
  ['linux/armhf', 'linux/arm/v7'],
  ['linux/armel', 'linux/arm/v6'],
  ['linux/arm', 'linux/arm/v7'],
  ['linux/arm/6', 'linux/arm/v6'],
  ['linux/i386', 'linux/386'],
  ['macos/arm64', 'darwin/arm64'],
  ['windows/amd64', 'windows/amd64'],
  ['linux/riscv64', 'linux/riscv64'],
];

for (const [spec, want] of cases) {
  test(`parsePlatform ${spec}`, (t) => {
    t.is(formatPlatform(parsePlatform(spec)), want);
  });
}

test('one word: an OS or an architecture, completed from this machine', (t) => {
  const host = hostPlatform();
  t.is(parsePlatform('linux').os, 'linux');
  t.true(samePlatform(parsePlatform('linux'), host));
  t.deepEqual(parsePlatform('s390x'), { os: host.os, architecture: 's390x' });
});

test('malformed or unknown platforms are typed errors saying what is wrong', (t) => {
  for (const [spec, why] of [
    ['foo/bar', /unknown operating system "foo"/],
    ['linux/bar', /unknown architecture "bar"/],
    ['foo', /unknown operating system or architecture "foo"/],
    ['', /expected OS\/ARCH/],
    ['linux/amd64/v2/x', /expected OS\/ARCH/],
    ['linux//amd64', /expected OS\/ARCH/],
    ['linux/amd64 ', /expected OS\/ARCH/],
  ] as const) {
    const err = t.throws(() => parsePlatform(spec), { instanceOf: BuildError }, spec);
    t.is(err?.code, 'TSBUILD_INVALID_ARGUMENT');
    t.regex(err!.message, why, spec);
  }
});

test('the host platform, however written, is the host', (t) => {
  const host = hostPlatform();
  t.true(isHostPlatform(host));
  t.true(isHostPlatform(parsePlatform(formatPlatform(host))));
  t.false(isHostPlatform({ os: 'linux', architecture: host.architecture === 'amd64' ? 'arm64' : 'amd64' }));
  t.false(isHostPlatform({ os: 'windows', architecture: host.architecture }));
  t.true(samePlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }, { os: 'linux', architecture: 'aarch64' }));
  t.false(samePlatform({ os: 'linux', architecture: 'arm', variant: 'v6' }, { os: 'linux', architecture: 'arm' }));
});

test('TARGET* say the target, BUILD* the machine', (t) => {
  const args = platformArgs({ os: 'linux', architecture: 'arm', variant: 'v7' });
  t.is(args.get('TARGETPLATFORM'), 'linux/arm/v7');
  t.is(args.get('TARGETOS'), 'linux');
  t.is(args.get('TARGETARCH'), 'arm');
  t.is(args.get('TARGETVARIANT'), 'v7');
  t.is(args.get('BUILDPLATFORM'), formatPlatform(hostPlatform()));
});
