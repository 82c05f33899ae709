import test from 'ava';
import { formatPlatform, hostPlatform } from '@tsbuild/layerstore';
import { platformArgs } from './platform.js';

test('TARGET* say the target, BUILD* the machine', (t) => {
  const args = platformArgs({ os: 'linux', architecture: 'arm', variant: 'v7' });
  t.is(args.get('TARGETPLATFORM'), 'linux/arm/v7');
  t.is(args.get('TARGETOS'), 'linux');
  t.is(args.get('TARGETARCH'), 'arm');
  t.is(args.get('TARGETVARIANT'), 'v7');
  t.is(args.get('BUILDPLATFORM'), formatPlatform(hostPlatform()));
  t.is(args.get('BUILDARCH'), hostPlatform().architecture);
});
