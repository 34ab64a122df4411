/**
 * The site CA the run makes (openssl, ECDSA P-256, private keys 0600) and the two certificates it signs: the mirror's
 * (for the address the hosts reach) and the registry's (127.0.0.1, behind the mirror). The lead installs the CA in
 * each booted host's trust store, as a site's golden image would.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { runOrThrow } from '../proc.js';

/** The site's TLS files. */
export interface SiteTls {
  caCert: string;
  server: { cert: string; key: string };
  registry: { cert: string; key: string };
}

/** subjectAltName for a host: an IP address or a DNS name. */
export function altName(host: string): string {
  return isIP(host) ? `IP:${host}` : `DNS:${host}`;
}

/** A key and a certificate for host signed by the CA in dir. */
function issue(dir: string, name: string, host: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `subjectAltName=${altName(host)}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
  const request = 'req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'.split(' ');
  runOrThrow(['openssl', ...request, '-keyout', key, '-subj', `/CN=${host}`, '-out', `${cert}.csr`], 60_000);
  chmodSync(key, 0o600);
  const sign = ['x509', '-req', '-CAcreateserial', '-days', '30', '-sha256', '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key')];
  runOrThrow(['openssl', ...sign, '-in', `${cert}.csr`, '-extfile', ext, '-out', cert], 60_000);
  return { cert, key };
}

/** Makes a new CA in dir (never reusing one) and the mirror's and registry's certificates. */
export function makeSiteTls(dir: string, host: string): SiteTls {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  if (existsSync(caKey)) throw new Error(`${caKey} exists: a site CA is made once per site folder, never replaced`);
  const ca = 'req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30'.split(' ');
  const extensions = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
  runOrThrow(['openssl', ...ca, '-keyout', caKey, '-subj', '/CN=kubeha e2e site CA', ...extensions, '-out', caCert], 60_000);
  chmodSync(caKey, 0o600);
  return { caCert, server: issue(dir, 'mirror', host), registry: issue(dir, 'registry', '127.0.0.1') };
}
