/** Reads facts out of stored certificates with Node's native X.509 support: SANs, validity, fingerprints. Pure. */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { Sans } from './cert-list.js';

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
  return cert;
}
