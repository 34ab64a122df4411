/** Reads facts out of stored certificates with Node's native X.509 support: SANs, validity, fingerprints. Pure. */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { Sans, Usage } from './cert-list.js';

/** Milliseconds in a day: validity periods and expiry warnings count in days. */
export const DAY_MS = 24 * 60 * 60 * 1000;

/** A parsed certificate with its validity as dates. */
export interface Certificate {
  native: X509Certificate;
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
}

/** Parses one PEM certificate; throws on anything else. */
export function parseCertificate(pem: string): Certificate {
  const native = new X509Certificate(pem);
  return {
    native,
    subject: native.subject.split('\n').join(', '),
    issuer: native.issuer.split('\n').join(', '),
    notBefore: new Date(native.validFrom),
    notAfter: new Date(native.validTo),
  };
}

/** The SANs of a certificate, in the certificate's order. */
export function sansOf(cert: Certificate): Sans {
  const names = (cert.native.subjectAltName ?? '').split(', ').filter(Boolean);
  return {
    dns: names.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4)),
    ip: names.filter((n) => n.startsWith('IP Address:')).map((n) => n.slice(11)),
  };
}

/** Whether two SAN sets hold the same names. */
export function sameSans(a: Sans, b: Sans): boolean {
  const key = (s: Sans) => JSON.stringify({ dns: [...s.dns].sort(), ip: [...s.ip].sort() });
  return key(a) === key(b);
}

/** A subject as its attributes, sorted (`CN=ceph1`, `O=...`): comparable with what the certificate list asks for. */
export function subjectParts(cert: X509Certificate): string[] {
  return cert.subject.split('\n').sort();
}

/** The attributes the certificate list's subject asks for, sorted as subjectParts gives a certificate's. */
export function wantedSubject(subject: { commonName: string; organization?: string }): string[] {
  return [`CN=${subject.commonName}`, ...(subject.organization ? [`O=${subject.organization}`] : [])].sort();
}

/** Extended key usages by OID (RFC 5280 section 4.2.1.12: id-kp-serverAuth, id-kp-clientAuth). */
const USAGE_OIDS: Record<Usage, string> = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' };

/** Whether a certificate's extended key usages are exactly `usages`. */
export function sameUsages(cert: X509Certificate, usages: readonly Usage[]): boolean {
  const key = (oids: readonly string[]) => [...oids].sort().join(' ');
  return key(cert.keyUsage ?? []) === key(usages.map((u) => USAGE_OIDS[u]));
}

/** SHA-256 fingerprint of a certificate, colon-separated upper-case hex like openssl prints it. */
export function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** Certificates of a secrets bundle that expire before `now + days`, soonest first. */
export function expiringCertificates(files: ReadonlyMap<string, string>, now: Date, days: number): { path: string; notAfter: Date }[] {
  const limit = now.getTime() + days * DAY_MS;
  return [...files]
    .filter(([path]) => path.endsWith('.crt'))
    .map(([path, pem]) => ({ path, notAfter: parseCertificate(pem).notAfter }))
    .filter((c) => c.notAfter.getTime() < limit)
    .sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime());
}

/** A certificate (or public key) and its private key as stored, with their paths for messages. */
export interface StoredPair {
  crtPath: string;
  keyPath: string;
  crt: string;
  key: string;
}

/** Parses a stored certificate and its key and checks they belong together; reports problems instead of throwing. */
export function checkPair(pair: StoredPair, problems: string[], advice: string): X509Certificate | null {
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    cert = new X509Certificate(pair.crt);
  } catch {
    problems.push(`${pair.crtPath}: not a PEM certificate`);
    return null;
  }
  try {
    key = createPrivateKey(pair.key);
  } catch {
    problems.push(`${pair.keyPath}: not a PEM private key`);
    return null;
  }
  if (!cert.checkPrivateKey(key)) {
    problems.push(`${pair.keyPath}: does not match the public key of ${pair.crtPath}; ${advice}`);
    return null;
  }
  const weak = weakKeyProblem(cert.publicKey);
  if (weak) problems.push(`${pair.crtPath}: ${weak}`);
  return weak ? null : cert;
}

/** Smallest RSA modulus kubeha accepts (the size it makes; kubeadm and current TLS stacks refuse smaller keys). */
export const MIN_RSA_BITS = 2048;

/** Why a key is too weak to use, or null. */
function weakKeyProblem(key: KeyObject): string | null {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  return key.asymmetricKeyType === 'rsa' && bits !== undefined && bits < MIN_RSA_BITS
    ? `an RSA key of ${bits} bits; kubeha needs at least ${MIN_RSA_BITS}`
    : null;
}

/** Why a stored certificate cannot serve as a CA (basicConstraints CA:TRUE missing), or null. */
export function caProblem(path: string, cert: X509Certificate): string | null {
  return cert.ca ? null : `${path}: not a CA certificate (basicConstraints CA:TRUE is missing); restore the CA from your backup (kubeha never replaces a CA)`;
}

/** Checks that a bare public key (`.pub`, SPKI PEM) is the public half of a private key; reports problems instead of throwing. */
export function checkKeyPair(pair: StoredPair, problems: string[], advice: string): void {
  let key: KeyObject;
  let pub: KeyObject;
  try {
    key = createPrivateKey(pair.key);
  } catch {
    problems.push(`${pair.keyPath}: not a PEM private key`);
    return;
  }
  try {
    pub = createPublicKey(pair.crt);
  } catch {
    problems.push(`${pair.crtPath}: not a PEM public key`);
    return;
  }
  const der = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  if (!der(createPublicKey(key)).equals(der(pub))) problems.push(`${pair.crtPath}: not the public half of ${pair.keyPath}; ${advice}`);
  const weak = weakKeyProblem(pub);
  if (weak) problems.push(`${pair.keyPath}: ${weak}`);
}

/** Certificates of a bundle whose validity ended before `now`, soonest first. */
export function expiredCertificates(files: ReadonlyMap<string, string>, now: Date): { path: string; notAfter: Date }[] {
  return expiringCertificates(files, now, 0);
}
