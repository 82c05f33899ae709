/** `tsbuild run -p` and `--network` parsed as docker parses them. */
import test from 'ava';
import { UsageError } from '../errors.js';
import { parsePublish, parseRunNetwork } from './publish.js';

test('-p [HOSTIP:]HOSTPORT:CONTAINERPORT[/PROTO]', (t) => {
  t.deepEqual(parsePublish('8080:80'), { hostPort: 8080, containerPort: 80, protocol: 'tcp' });
  t.deepEqual(parsePublish('127.0.0.1:8080:80/tcp'), { hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80, protocol: 'tcp' });
  t.deepEqual(parsePublish('0.0.0.0:53:5353/udp'), { hostPort: 53, containerPort: 5353, protocol: 'udp' });
});

test('-p forms that are not supported or wrong name what is wrong', (t) => {
  for (const [spec, msg] of [
    ['80', /give the host port too/],
    ['127.0.0.1::80', /give the host port too/],
    ['8080-8081:80-81', /ranges are not supported/],
    ['8080:80/sctp', /protocol "sctp": want tcp or udp/],
    ['70000:80', /host port "70000" is not a port/],
    ['8080:http', /container port "http" is not a port/],
    ['localhost:8080:80', /host address "localhost" is not an IPv4 address/],
    ['[::1]:8080:80', /IPv6 host addresses are not supported/],
  ] as const) {
    t.throws(() => parsePublish(spec), { instanceOf: UsageError, message: msg }, spec);
  }
});

test('--network: default (or docker\'s bridge) is a private network; host; none', (t) => {
  t.is(parseRunNetwork('default'), 'private');
  t.is(parseRunNetwork('bridge'), 'private');
  t.is(parseRunNetwork('host'), 'host');
  t.is(parseRunNetwork('none'), 'none');
  t.throws(() => parseRunNetwork('container:abc'), { instanceOf: UsageError, message: '--network container:abc: want default, host or none' });
});
