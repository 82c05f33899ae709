/**
 * Which forward proxy a request goes through, from HTTP_PROXY / HTTPS_PROXY / NO_PROXY as
 * Go's net/http reads them (golang.org/x/net/http/httpproxy), so tsbuild behaves like
 * docker, skopeo and buildah in the same CI job:
 *
 * - https URLs use `HTTPS_PROXY`, else `https_proxy`; http URLs use `HTTP_PROXY`, else
 *   `http_proxy` (the first one set and non-empty wins). There is no fallback from one
 *   scheme's variable to the other's.
 * - `localhost` and loopback addresses (127.0.0.0/8, ::1) are never proxied.
 * - `NO_PROXY` (else `no_proxy`), comma-separated, case-insensitive: `*` turns proxying
 *   off; `1.2.3.4` or `[::1]:5000` an address (with an optional port); `10.0.0.0/8` a CIDR
 *   range (any port); `foo.com` that name and its subdomains, `.foo.com` and `*.foo.com`
 *   only the subdomains, each with an optional `:port`. Malformed entries are skipped, as
 *   in Go.
 * - A proxy value without a scheme is `http://`; `http://` and `https://` (TLS to the
 *   proxy itself) are supported; `user:pass@` becomes `Proxy-Authorization: Basic`
 *   (percent-decoded). Another scheme (socks5...) or a value that is not a URL is a
 *   TSBUILD_PROXY_INVALID error the first time a request would use it, never ignored.
 *
 *   const rules = new ProxyRules({ HTTPS_PROXY: 'http://u:p@10.0.0.1:3128', NO_PROXY: '.corp' });
 *   rules.forUrl(new URL('https://registry.example/v2/'), 'registry.example');
 *   //  { hostname: '10.0.0.1', port: 3128, secure: false, authorization: 'Basic dTpw', ... }
 *   rules.forUrl(new URL('https://reg.corp/v2/'), 'reg.corp');   // undefined: NO_PROXY
 */
import { BlockList, isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { RegistryError } from './errors.js';

export interface Proxy {
  /** Host name or IP (no brackets). */
  hostname: string;
  port: number;
  /** `host:port` for messages. */
  host: string;
  /** An https:// proxy: the connection to the proxy itself is TLS. */
  secure: boolean;
  /** `Basic ...` from the URL's user:password, if any. */
  authorization: string | undefined;
  /** The variable it came from, for messages: `HTTPS_PROXY`. */
  variable: string;
  /** Identifies proxy and credentials: requests with the same key may share connections. */
  key: string;
}

interface Matcher {
  port: string;
  match(host: string, ip: boolean): boolean;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

export class ProxyRules {
  private readonly all: boolean = false;
  private readonly matchers: Matcher[] = [];
  private readonly parsed = new Map<string, Proxy>();

  constructor(private readonly env: NodeJS.ProcessEnv) {
    const noProxy = firstSet(env, 'NO_PROXY', 'no_proxy')?.value ?? '';
    for (const raw of noProxy.split(',')) {
      const entry = raw.trim().toLowerCase();
      if (entry === '') continue;
      if (entry === '*') {
        this.all = true;
        break;
      }
      const m = parseEntry(entry);
      if (m) this.matchers.push(m);
    }
  }

  /** The proxy for `url`, or undefined to connect directly. Throws TSBUILD_PROXY_INVALID for an unusable proxy variable. */
  forUrl(url: URL, registry: string): Proxy | undefined {
    const names = url.protocol === 'https:' ? (['HTTPS_PROXY', 'https_proxy'] as const) : url.protocol === 'http:' ? (['HTTP_PROXY', 'http_proxy'] as const) : undefined;
    const chosen = names && firstSet(this.env, ...names);
    if (!chosen || !this.useProxy(url)) return undefined;
    const key = `${chosen.name}=${chosen.value}`;
    let proxy = this.parsed.get(key);
    if (!proxy) this.parsed.set(key, (proxy = parseProxy(chosen.name, chosen.value, registry)));
    return proxy;
  }

  private useProxy(url: URL): boolean {
    const host = unbracket(url.hostname).toLowerCase();
    if (host === 'localhost') return false;
    const version = isIP(host);
    if (version !== 0 && loopback.check(host, version === 4 ? 'ipv4' : 'ipv6')) return false;
    if (this.all) return false;
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return !this.matchers.some((m) => (m.port === '' || m.port === port) && m.match(host, version !== 0));
  }
}

function firstSet(env: NodeJS.ProcessEnv, ...names: string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return { name, value };
  }
  return undefined;
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function family(ip: string): 'ipv4' | 'ipv6' {
  return isIP(ip) === 4 ? 'ipv4' : 'ipv6';
}

/** One NO_PROXY entry (already trimmed and lower-cased), or undefined when malformed. */
function parseEntry(entry: string): Matcher | undefined {
  const cidr = /^([^/]+)\/(\d{1,3})$/.exec(entry);
  if (cidr && isIP(cidr[1]!) !== 0 && Number(cidr[2]) <= (isIP(cidr[1]!) === 4 ? 32 : 128)) {
    const list = new BlockList();
    list.addSubnet(cidr[1]!, Number(cidr[2]), family(cidr[1]!));
    return { port: '', match: (host, ip) => ip && list.check(host, family(host)) };
  }
  // host:port or [v6]:port; a bare IPv6 address has more than one colon and no port.
  let host = entry;
  let port = '';
  const bracketed = /^\[([^\]]*)\](?::(\d*))?$/.exec(entry);
  if (bracketed) {
    host = bracketed[1]!;
    port = bracketed[2] ?? '';
  } else if (entry.indexOf(':') !== -1 && entry.indexOf(':') === entry.lastIndexOf(':')) {
    [host, port] = entry.split(':') as [string, string];
  }
  if (host === '') return undefined;
  if (isIP(host) !== 0) {
    const list = new BlockList();
    list.addAddress(host, family(host));
    return { port, match: (h, ip) => ip && list.check(h, family(h)) };
  }
  // foo.com: the name and its subdomains; .foo.com and *.foo.com: subdomains only.
  const withHost = !host.startsWith('.') && !host.startsWith('*.');
  const dotted = withHost ? `.${host}` : host.replace(/^\*/, '');
  const suffix = domainToASCII(dotted.slice(1)) ? `.${domainToASCII(dotted.slice(1))}` : dotted;
  return { port, match: (h) => h.endsWith(suffix) || (withHost && h === suffix.slice(1)) };
}

function parseProxy(variable: string, value: string, registry: string): Proxy {
  const invalid = (why: string) => new RegistryError('TSBUILD_PROXY_INVALID', `${variable}=${JSON.stringify(redact(value))}: ${why}`, { registry });
  const text = value.trim();
  // No scheme: http:// (as Go does). `host:3128` alone would parse as scheme "host:".
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw invalid('not a proxy URL (want http://host:port or https://host:port)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`proxy scheme ${url.protocol.slice(0, -1)} is not supported (use http:// or https://)`);
  if (url.hostname === '') throw invalid('no proxy host');
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    try {
      authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    } catch {
      throw invalid('bad percent-encoding in the proxy credentials');
    }
  }
  const secure = url.protocol === 'https:';
  const port = Number(url.port || (secure ? 443 : 80));
  const host = `${url.hostname}:${port}`;
  return { hostname: unbracket(url.hostname), port, host, secure, authorization, variable, key: `${url.protocol}//${host}#${authorization ?? ''}` };
}

/** The value with any password replaced, for messages. */
function redact(value: string): string {
  return value.replace(/(\/\/[^/@:]*:)[^/@]*@/, '$1***@').replace(/^([^/@:]*:)[^/@]*@/, '$1***@');
}
