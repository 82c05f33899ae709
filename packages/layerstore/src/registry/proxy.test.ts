/**
 * Which proxy a URL goes through (proxy.ts): Go's httpproxy rules as a table of cases, then
 * the credentials and the errors for proxy values that cannot be used.
 */
import test from 'ava';
import type { RegistryError } from './errors.js';
import { ProxyRules } from './proxy.js';

const P = { HTTPS_PROXY: 'http://proxy.corp:3128', HTTP_PROXY: 'http://plain.corp:8080' };

/** [env, URL, expected proxy host:port or undefined for a direct connection] */
const CASES: Array<[NodeJS.ProcessEnv, string, string | undefined]> = [
  // Each scheme has its own variable; no fallback from one to the other.
  [P, 'https://registry.example/v2/', 'proxy.corp:3128'],
  [P, 'http://registry.example:5000/v2/', 'plain.corp:8080'],
  [{ HTTPS_PROXY: P.HTTPS_PROXY }, 'http://registry.example/v2/', undefined],
  [{ HTTP_PROXY: P.HTTP_PROXY }, 'https://registry.example/v2/', undefined],
  // Uppercase first; an empty value counts as unset.
  [{ HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2' }, 'https://r.example/', 'upper:1'],
  [{ https_proxy: 'http://lower:2' }, 'https://r.example/', 'lower:2'],
  [{ HTTPS_PROXY: '', https_proxy: 'http://lower:2' }, 'https://r.example/', 'lower:2'],
  [{ http_proxy: 'http://lower:2' }, 'http://r.example/', 'lower:2'],
  // No scheme means http://; default ports 80 and 443, as in Go.
  [{ HTTPS_PROXY: 'proxy.corp:3128' }, 'https://r.example/', 'proxy.corp:3128'],
  [{ HTTPS_PROXY: 'proxy.corp' }, 'https://r.example/', 'proxy.corp:80'],
  [{ HTTPS_PROXY: 'https://proxy.corp' }, 'https://r.example/', 'proxy.corp:443'],
  [{ HTTPS_PROXY: 'http://[fd00::3]:3128' }, 'https://r.example/', '[fd00::3]:3128'],
  // localhost and loopback are never proxied, whatever NO_PROXY says.
  [P, 'https://localhost:5000/v2/', undefined],
  [P, 'https://127.0.0.1:5000/v2/', undefined],
  [P, 'http://127.3.2.1/v2/', undefined],
  [P, 'https://[::1]:5000/v2/', undefined],
  [P, 'https://[::ffff:127.0.0.1]:5000/v2/', undefined],
  [P, 'https://[::2]:5000/v2/', 'proxy.corp:3128'],
  [P, 'https://10.0.0.1:5000/v2/', 'proxy.corp:3128'],
  // NO_PROXY: `*` turns proxying off.
  [{ ...P, NO_PROXY: '*' }, 'https://registry.example/', undefined],
  [{ ...P, NO_PROXY: 'a.com,*' }, 'http://b.example/', undefined],
  // A name matches itself and its subdomains, not names that merely end the same.
  [{ ...P, NO_PROXY: 'foo.com' }, 'https://foo.com/', undefined],
  [{ ...P, NO_PROXY: 'foo.com' }, 'https://bar.foo.com/', undefined],
  [{ ...P, NO_PROXY: 'foo.com' }, 'https://barfoo.com/', 'proxy.corp:3128'],
  // A leading dot or `*.`: subdomains only.
  [{ ...P, NO_PROXY: '.y.com' }, 'https://x.y.com/', undefined],
  [{ ...P, NO_PROXY: '.y.com' }, 'https://y.com/', 'proxy.corp:3128'],
  [{ ...P, NO_PROXY: '*.y.com' }, 'https://a.b.y.com/', undefined],
  [{ ...P, NO_PROXY: '*.y.com' }, 'https://y.com/', 'proxy.corp:3128'],
  // Spaces, case and empty entries.
  [{ ...P, NO_PROXY: ' Foo.COM , ,bar.org' }, 'https://FOO.com/', undefined],
  [{ ...P, NO_PROXY: ' Foo.COM , ,bar.org' }, 'https://x.bar.org/', undefined],
  // no_proxy when NO_PROXY is unset; NO_PROXY wins when both are.
  [{ ...P, no_proxy: 'foo.com' }, 'https://foo.com/', undefined],
  [{ ...P, NO_PROXY: 'bar.com', no_proxy: 'foo.com' }, 'https://foo.com/', 'proxy.corp:3128'],
  // Ports: compared with the URL's port, or its scheme's default.
  [{ ...P, NO_PROXY: 'foo.com:5000' }, 'https://foo.com:5000/', undefined],
  [{ ...P, NO_PROXY: 'foo.com:5000' }, 'https://foo.com/', 'proxy.corp:3128'],
  [{ ...P, NO_PROXY: 'foo.com:443' }, 'https://foo.com/', undefined],
  [{ ...P, NO_PROXY: 'foo.com:443' }, 'http://foo.com/', 'plain.corp:8080'],
  // IP addresses, with or without a port; CIDR ranges (any port).
  [{ ...P, NO_PROXY: '192.168.1.5' }, 'https://192.168.1.5:5000/', undefined],
  [{ ...P, NO_PROXY: '192.168.1.5' }, 'https://192.168.1.6/', 'proxy.corp:3128'],
  [{ ...P, NO_PROXY: '192.168.1.5:443' }, 'https://192.168.1.5/', undefined],
  [{ ...P, NO_PROXY: '192.168.1.5:443' }, 'https://192.168.1.5:5000/', 'proxy.corp:3128'],
  [{ ...P, NO_PROXY: '10.0.0.0/8' }, 'https://10.200.3.4:5000/', undefined],
  [{ ...P, NO_PROXY: '10.0.0.0/8' }, 'https://11.0.0.1/', 'proxy.corp:3128'],
  [{ ...P, NO_PROXY: '10.0.0.0/8' }, 'https://ten.example/', 'proxy.corp:3128'],
  // IPv6 literals: bare, bracketed with a port, CIDR.
  [{ ...P, NO_PROXY: '2001:db8::1' }, 'https://[2001:db8::1]:5000/', undefined],
  [{ ...P, NO_PROXY: '[2001:db8::1]:5000' }, 'https://[2001:db8::1]:5000/', undefined],
  [{ ...P, NO_PROXY: '[2001:db8::1]:5000' }, 'https://[2001:db8::1]/', 'proxy.corp:3128'],
  [{ ...P, NO_PROXY: '2001:db8::/32' }, 'https://[2001:db8:7::5]/', undefined],
  [{ ...P, NO_PROXY: '2001:db8::/32' }, 'https://[2001:db9::5]/', 'proxy.corp:3128'],
  // Internationalised names are compared in their ASCII form.
  [{ ...P, NO_PROXY: 'bücher.example' }, 'https://www.bücher.example/', undefined],
];

test('proxy choice follows Go\'s httpproxy rules (table)', (t) => {
  for (const [env, url, want] of CASES) {
    const got = new ProxyRules(env).forUrl(new URL(url), 'r');
    t.is(got?.host, want, `${JSON.stringify(env)} ${url}`);
  }
});

test('user:password in the proxy URL becomes Proxy-Authorization (percent-decoded); https:// means TLS to the proxy', (t) => {
  const proxy = new ProxyRules({ HTTPS_PROXY: 'https://us%40er:p%3Ass%20w@proxy.corp:8443' }).forUrl(new URL('https://r.example/'), 'r')!;
  t.is(proxy.authorization, `Basic ${Buffer.from('us@er:p:ss w').toString('base64')}`);
  t.true(proxy.secure);
  t.is(proxy.hostname, 'proxy.corp');
  t.is(proxy.port, 8443);
  t.is(proxy.variable, 'HTTPS_PROXY');
  t.is(new ProxyRules({ HTTPS_PROXY: 'proxy.corp:3128' }).forUrl(new URL('https://r.example/'), 'r')!.authorization, undefined);
  t.false(new ProxyRules({ HTTPS_PROXY: 'proxy.corp:3128' }).forUrl(new URL('https://r.example/'), 'r')!.secure);
});

test('an unsupported proxy scheme is a typed error naming the variable and value (password hidden)', (t) => {
  const err = t.throws<RegistryError>(() => new ProxyRules({ HTTPS_PROXY: 'socks5://me:s3cret@proxy.corp:1080' }).forUrl(new URL('https://r.example/'), 'r.example'));
  t.is(err?.code, 'TSBUILD_PROXY_INVALID');
  t.is(err?.registry, 'r.example');
  t.regex(err!.message, /^HTTPS_PROXY="socks5:\/\/me:\*\*\*@proxy\.corp:1080": proxy scheme socks5 is not supported/);
  t.false(err!.message.includes('s3cret'));

  const lower = t.throws<RegistryError>(() => new ProxyRules({ http_proxy: 'ftp://proxy.corp' }).forUrl(new URL('http://r.example/'), 'r'));
  t.is(lower?.code, 'TSBUILD_PROXY_INVALID');
  t.regex(lower!.message, /^http_proxy="ftp:\/\/proxy\.corp"/);

  const bad = t.throws<RegistryError>(() => new ProxyRules({ HTTPS_PROXY: 'http://[not-an-ip' }).forUrl(new URL('https://r.example/'), 'r'));
  t.is(bad?.code, 'TSBUILD_PROXY_INVALID');
  t.regex(bad!.message, /not a proxy URL/);
});

test('a bad proxy value only fails the requests that would use it', (t) => {
  const rules = new ProxyRules({ HTTP_PROXY: 'socks5://proxy.corp', HTTPS_PROXY: 'http://proxy.corp:3128', NO_PROXY: 'direct.example' });
  t.is(rules.forUrl(new URL('https://r.example/'), 'r')?.host, 'proxy.corp:3128');
  t.is(rules.forUrl(new URL('http://direct.example/'), 'r'), undefined);
  t.is(rules.forUrl(new URL('http://127.0.0.1:5000/'), 'r'), undefined);
  t.throws(() => rules.forUrl(new URL('http://r.example/'), 'r'), { code: 'TSBUILD_PROXY_INVALID' } as never);
});
