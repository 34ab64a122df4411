/** Reads facts out of stored certificates: SANs, usages, the kubeadm CA hash. Pure. */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Sans } from './cert-list.js';

/** Parses one PEM certificate. */
export function parseCertificate(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pem);
}

/** The SANs of a certificate, in the certificate's order. */
export function sansOf(cert: x509.X509Certificate): Sans {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = ext ? ext.names.toJSON() : [];
  const pick = (type: string) => names.filter((n) => n.type === type).map((n) => n.value);
  return { dns: pick('dns'), ip: pick('ip') };
}

/** Whether two SAN sets hold the same names. */
export function sameSans(a: Sans, b: Sans): boolean {
  const key = (s: Sans) => JSON.stringify({ dns: [...s.dns].sort(), ip: [...s.ip].sort() });
  return key(a) === key(b);
}

/** The `sha256:<hex>` hash of a CA's public key that `kubeadm join --discovery-token-ca-cert-hash` expects. */
export function caCertHash(caPem: string): string {
  const spki = Buffer.from(parseCertificate(caPem).publicKey.rawData);
  return 'sha256:' + createHash('sha256').update(spki).digest('hex');
}

/** SHA-256 fingerprint of a certificate, colon-separated upper-case hex like openssl prints it. */
export function fingerprint(pem: string): string {
  const der = Buffer.from(parseCertificate(pem).rawData);
  return createHash('sha256').update(der).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}
