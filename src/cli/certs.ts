/** `gen certs`: lists the stored certificates with subject, hosts, SANs and expiry. */
import { parseCertificate, sansOf } from '../pki/inspect.js';
import type { Console } from './main.js';
import { loadSecrets } from './secrets-store.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Certificates expiring within this many days are flagged. */
export const EXPIRY_WARNING_DAYS = 30;

/** Prints one block per certificate; returns 0 (expiring certificates are warnings). */
export function listCertificates(dir: string, now: Date, io: Console): number {
  const secrets = loadSecrets(dir);
  const certs = [...secrets.files.keys()].filter((p) => p.endsWith('.crt')).sort();
  if (certs.length === 0) {
    io.out(`${dir}: no certificates yet; run gen INVENTORY to make them\n`);
    return 0;
  }
  let expiring = 0;
  for (const path of certs) {
    const cert = parseCertificate(secrets.files.get(path)!);
    const sans = sansOf(cert);
    const days = Math.floor((cert.notAfter.getTime() - now.getTime()) / DAY_MS);
    const soon = days < EXPIRY_WARNING_DAYS;
    if (soon) expiring++;
    io.out([
      `${path}`,
      `  subject  ${cert.subject}${cert.subject === cert.issuer ? ' (CA)' : `, issued by ${cert.issuer}`}`,
      `  hosts    ${hostsOf(path)}`,
      ...(sans.dns.length + sans.ip.length ? [`  SANs     ${[...sans.dns, ...sans.ip].join(', ')}`] : []),
      `  expires  ${cert.notAfter.toISOString()} (${days < 0 ? `expired ${-days} days ago` : `in ${days} days`})${soon ? '  WARNING: renew it' : ''}`,
      '',
    ].join('\n') + '\n');
  }
  if (expiring) io.err(`warning: ${expiring} certificate(s) expire within ${EXPIRY_WARNING_DAYS} days\n`);
  return 0;
}

function hostsOf(path: string): string {
  const member = /^etcd\/(.+)-(server|peer)\.crt$/.exec(path);
  if (member) return `${member[1]} (etcd member)`;
  if (path === 'etcd/ca.crt') return 'every control plane and etcd member (key stays in the secrets folder)';
  return 'every control plane';
}
