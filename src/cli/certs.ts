/** gen certs (list) and gen certs renew. */
import { DAY_MS, parseCertificate, sansOf } from '../pki/inspect.js';
import { storedCertificate, type Installation } from '../pki/cert-list.js';
import type { RenewResult } from '../pki/renew.js';
import type { Invocation } from './args.js';
import { printJson, type Console } from './console.js';
import { loadSecrets, saveSecrets } from './secrets-store.js';
import { readSteady, withFolderLocks } from './lock.js';
import type { Machine } from './machine.js';
import { realFolder } from './folders.js';
import { refuseMountPoint } from './mount-points.js';
import { writeFailure } from './atomic.js';

/** Certificates expiring within this many days are flagged. */
export const EXPIRY_WARNING_DAYS = 30;

/** One stored certificate as gen certs shows it. */
interface CertificateRow {
  path: string;
  subject: string;
  issuer: string;
  isCA: boolean;
  hosts: string;
  /** What it is for and what renews it, from the certificate list. */
  purpose: string;
  renewal: string;
  sans: string[];
  notAfter: string;
  daysLeft: number;
  expiringSoon: boolean;
}

/** The row of one stored certificate, its days left counted from `now`. */
function certificateRow(path: string, pem: string, now: Date): CertificateRow {
  const cert = parseCertificate(pem);
  const sans = sansOf(cert);
  const days = Math.floor((cert.notAfter.getTime() - now.getTime()) / DAY_MS);
  return {
    path,
    subject: cert.subject,
    issuer: cert.issuer,
    isCA: cert.subject === cert.issuer,
    hosts: hostsOf(path),
    ...listed(path),
    sans: [...sans.dns, ...sans.ip],
    notAfter: cert.notAfter.toISOString(),
    daysLeft: days,
    expiringSoon: days < EXPIRY_WARNING_DAYS,
  };
}

/** gen certs: one block per certificate; exit 0 (expiring certificates are warnings). */
export function listCertificates(invocation: Invocation, machine: Machine, io: Console): number {
  const dir = realFolder(invocation.secrets, 'secrets');
  const secrets = readSteady(dir, 'secrets', machine, () => loadSecrets(dir, { warn: io.err }));
  const certs = [...secrets.files.keys()]
    .filter((p) => p.endsWith('.crt'))
    .sort()
    .map((path) => certificateRow(path, secrets.files.get(path)!, machine.now));
  if (invocation.json) {
    printJson(io, { secrets: invocation.secrets, certificates: certs });
    return 0;
  }
  if (certs.length === 0) {
    io.out(`${invocation.secrets}: no certificates yet; run gen INVENTORY to make them\n`);
    return 0;
  }
  for (const c of certs) io.out(`${certificateBlock(c)}\n`);
  const expired = certs.filter((c) => c.daysLeft < 0);
  const expiring = certs.filter((c) => c.expiringSoon && c.daysLeft >= 0);
  const renew = (list: typeof certs) => (list.some((c) => !c.isCA) ? `: run gen certs renew --secrets ${invocation.secrets}, then gen again\n` : '\n');
  if (expired.length) io.err(`warning: ${expired.length} certificate(s) have expired${renew(expired)}`);
  if (expiring.length) io.err(`warning: ${expiring.length} certificate(s) expire within ${EXPIRY_WARNING_DAYS} days${renew(expiring)}`);
  return 0;
}

/** The text block of one certificate, ending with an empty line. */
function certificateBlock(c: CertificateRow): string {
  const left = c.daysLeft < 0 ? `expired ${-c.daysLeft} days ago` : `in ${c.daysLeft} days`;
  return [
    c.path,
    `  subject  ${c.subject}${c.isCA ? ' (CA)' : `, issued by ${c.issuer}`}`,
    `  for      ${c.purpose}`,
    `  hosts    ${c.hosts}`,
    `  renewal  ${c.renewal}`,
    ...(c.sans.length ? [`  SANs     ${c.sans.join(', ')}`] : []),
    `  expires  ${c.notAfter} (${left})${c.expiringSoon ? '  WARNING: renew it' : ''}`,
    '',
  ].join('\n');
}

/** gen certs renew: re-issues expiring leaves from the stored CAs and saves the secrets folder. */
export async function renewCertificates(invocation: Invocation, machine: Machine, io: Console): Promise<number> {
  const dir = realFolder(invocation.secrets, 'secrets');
  const result = await withFolderLocks([{ dir, role: 'secrets' }], machine, io.err, async () => {
    const stored = loadSecrets(dir, { warn: io.err });
    // Imported here: it loads @peculiar/x509, which gen (importing this module for EXPIRY_WARNING_DAYS) must not pay for.
    const { renewLeaves } = await import('../pki/renew.js');
    const result = await renewLeaves(stored, invocation.withinDays, { now: machine.now, crypto: machine.crypto });
    if (result.renewed.length) {
      refuseMountPoint(dir, 'secrets');
      try {
        saveSecrets(dir, result.secrets, stored);
      } catch (error) {
        throw writeFailure(error, dir, 'secrets', 'write the renewed certificates');
      }
    }
    return result;
  });
  printRenewal(invocation, io, result);
  return 0;
}

/** What gen certs renew did: each renewed certificate, and the expiring ones the certificate list does not name. */
function printRenewal(invocation: Invocation, io: Console, { renewed, notInList }: Omit<RenewResult, 'secrets'>): void {
  if (invocation.json) {
    const times = (r: (typeof renewed)[number]) => ({ path: r.path, oldNotAfter: r.oldNotAfter.toISOString(), newNotAfter: r.newNotAfter.toISOString() });
    printJson(io, { renewed: renewed.map(times), notInList });
    return;
  }
  for (const path of notInList) io.err(`warning: ${path} expires within ${invocation.withinDays} days but is not in kubeha's certificate list: not renewed\n`);
  if (invocation.quiet) return;
  if (!renewed.length) {
    io.out(`no leaf certificate in ${invocation.secrets}/ expires within ${invocation.withinDays} days; nothing renewed\n`);
    return;
  }
  for (const r of renewed) io.out(`renewed ${r.path}: expires ${r.newNotAfter.toISOString()} (was ${r.oldNotAfter.toISOString()})\n`);
  io.out(`Now run gen INVENTORY and run the new bundles of the affected hosts: they install the new certificates and restart only what uses them.\n`);
}

/** What the certificate list says of a stored certificate: what it is for, and what renews it. */
function listed(path: string): { purpose: string; renewal: string } {
  const spec = storedCertificate(path)?.spec;
  if (!spec) return { purpose: "not in kubeha's certificate list", renewal: 'not by kubeha' };
  const { by, after } = spec.renewal;
  return { purpose: spec.purpose, renewal: by ? `${by}; ${after}` : after };
}

/** Which hosts get a stored certificate, from the certificate list. */
function hostsOf(path: string): string {
  const stored = storedCertificate(path);
  if (!stored) return "no host (not in kubeha's certificate list)";
  if (stored.host !== null) return `${stored.host} (${HOLDERS[stored.spec.installed[0]!.on]})`;
  const holders = stored.spec.installed.map((i) => HOLDERS[i.on]).join(' and ');
  return `every ${holders}${stored.spec.installed.some((i) => !i.withKey) ? ' (key stays in the secrets folder)' : ''}`;
}

const HOLDERS: Record<Installation['on'], string> = { 'control-plane': 'control plane', etcd: 'etcd member' };
