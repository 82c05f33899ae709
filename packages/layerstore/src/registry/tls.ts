/**
 * Trust roots for https: Node's bundled roots, the system bundle, `$SSL_CERT_FILE` and
 * `$NODE_EXTRA_CA_CERTS`. Node reads NODE_EXTRA_CA_CERTS only at startup and never
 * SSL_CERT_FILE, and an explicit `ca` replaces its defaults, so all are read here, once
 * per client, when the first https connection is made.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/ca-bundle.pem', '/etc/pki/tls/cacert.pem', '/etc/ssl/cert.pem'];
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function trustedCertificates(env: NodeJS.ProcessEnv): string[] {
  const certs = new Set<string>(rootCertificates);
  for (const file of SYSTEM_BUNDLES) {
    const system = readPem(file);
    for (const c of system) certs.add(c);
    if (system.length > 0) break;
  }
  for (const file of [env.SSL_CERT_FILE, env.NODE_EXTRA_CA_CERTS]) {
    if (file) for (const c of readPem(file)) certs.add(c);
  }
  return [...certs];
}

function readPem(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').match(PEM_CERT) ?? [];
  } catch {
    return [];
  }
}
