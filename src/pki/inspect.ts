/** Reads facts out of stored certificates with Node's native X.509 support: SANs, validity, the kubeadm CA hash. Pure. */
import { createHash, X509Certificate } from 'node:crypto';
import type { Sans } from './cert-list.js';

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

const caHashes = new Map<string, string>();

/** The `sha256:<hex>` hash of a CA's public key that `kubeadm join --discovery-token-ca-cert-hash` expects (memoised: every joining node asks). */
export function caCertHash(caPem: string): string {
  let hash = caHashes.get(caPem);
  if (hash === undefined) {
    const spki = new X509Certificate(caPem).publicKey.export({ type: 'spki', format: 'der' });
    hash = 'sha256:' + createHash('sha256').update(spki).digest('hex');
    caHashes.set(caPem, hash);
  }
  return hash;
}

/** SHA-256 fingerprint of a certificate, colon-separated upper-case hex like openssl prints it. */
export function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** Certificates of a secrets bundle that expire before `now + days`, soonest first. */
export function expiringCertificates(files: ReadonlyMap<string, string>, now: Date, days: number): { path: string; notAfter: Date }[] {
  const limit = now.getTime() + days * 24 * 60 * 60 * 1000;
  return [...files]
    .filter(([path]) => path.endsWith('.crt'))
    .map(([path, pem]) => ({ path, notAfter: parseCertificate(pem).notAfter }))
    .filter((c) => c.notAfter.getTime() < limit)
    .sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime());
}
