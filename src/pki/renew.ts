/**
 * Renews the leaf certificates of the certificate list that expire soon (those it says `gen certs renew` renews): same
 * subject, SANs and key, the list's usages, new validity, from the stored CA. A .crt the list does not name is left alone.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { certificateAuthorities, storedCertificate, type LeafSpec } from './cert-list.js';
import { caProblem, checkPair, DAY_MS, parseCertificate, sansOf } from './inspect.js';
import { BACKDATE_MS, loadIssuingCa, SecretsError, signLeaf, type IssueDeps, type IssuingCa } from './issue.js';
import type { Secrets } from './secrets.js';

/** The outcome of a renewal: the new bundle and what was renewed. */
export interface RenewResult {
  secrets: Secrets;
  renewed: { path: string; oldNotAfter: Date; newNotAfter: Date }[];
  /** Certificates expiring within the days asked that the certificate list does not name: kubeha did not make them and does not renew them. */
  notInList: string[];
}

/** Whether a PEM certificate ends by `deadline` (ms); false when it is no certificate. */
function expiresBy(pem: string, deadline: number): boolean {
  try {
    return new x509.X509Certificate(pem).notAfter.getTime() <= deadline;
  } catch {
    return false;
  }
}

/** The list's spec of a stored leaf that `gen certs renew` renews, or null (a CA, or a file the list does not name). */
function renewable(path: string): LeafSpec | null {
  const spec = storedCertificate(path)?.spec;
  return spec && 'usages' in spec && spec.renewal.by === 'gen certs renew' ? spec : null;
}

/** Re-issues every leaf expiring within `withinDays`; CAs are never touched. */
export async function renewLeaves(stored: Secrets, withinDays: number, deps: IssueDeps): Promise<RenewResult> {
  const problems: string[] = [];
  const cas = await issuingCas(stored, deps, problems);
  if (problems.length) throw new SecretsError(problems);
  const caStems = new Set(certificateAuthorities().map((c) => `${c.stem}.crt`));
  const files = new Map(stored.files);
  const renewed: RenewResult['renewed'] = [];
  const notInList: string[] = [];
  const deadline = deps.now.getTime() + withinDays * DAY_MS;
  for (const path of [...stored.files.keys()].filter((p) => p.endsWith('.crt') && !caStems.has(p)).sort()) {
    const spec = renewable(path);
    if (!spec) {
      if (expiresBy(stored.files.get(path)!, deadline)) notInList.push(path);
      continue;
    }
    const keyPath = path.replace(/\.crt$/, '.key');
    const crt = stored.files.get(path)!;
    if (!checkPair({ crtPath: path, crt, keyPath, key: stored.files.get(keyPath) ?? '' }, problems, 'delete both, then run gen to have them issued again'))
      continue;
    const old = new x509.X509Certificate(crt);
    if (old.notAfter.getTime() > deadline) continue;
    const issuer = await findIssuer(old, cas, deps);
    if (!issuer) {
      problems.push(`${path}: no stored CA issued it; it cannot be renewed`);
      continue;
    }
    const pem = await renewal(old, spec, issuer, deps);
    files.set(path, pem);
    renewed.push({ path, oldNotAfter: old.notAfter, newNotAfter: new x509.X509Certificate(pem).notAfter });
  }
  if (problems.length) throw new SecretsError(problems);
  return { secrets: { files, tokens: stored.tokens }, renewed, notInList };
}

/** The stored CAs able to sign (a pair that is consistent and not expired); the others go to `problems`. */
async function issuingCas(stored: Secrets, deps: IssueDeps, problems: string[]): Promise<IssuingCa[]> {
  const cas: IssuingCa[] = [];
  for (const ca of certificateAuthorities()) {
    const crt = stored.files.get(`${ca.stem}.crt`);
    const key = stored.files.get(`${ca.stem}.key`);
    if (crt === undefined || key === undefined) continue;
    const cert = checkPair(
      { crtPath: `${ca.stem}.crt`, crt, keyPath: `${ca.stem}.key`, key },
      problems,
      'restore both from your backup (kubeha never replaces a CA)',
    );
    const notCa = cert && caProblem(`${ca.stem}.crt`, cert);
    if (notCa) problems.push(notCa);
    else if (cert && new Date(cert.validTo).getTime() <= deps.now.getTime())
      problems.push(`${ca.stem}.crt: the CA expired on ${new Date(cert.validTo).toISOString().slice(0, 10)}; kubeha renews leaves only, never a CA`);
    else if (cert) cas.push(await loadIssuingCa(crt, key, deps));
  }
  return cas;
}

/** The renewed certificate's PEM: the old one's subject, SANs, key and lifetime, the list's usages, valid from now. */
async function renewal(old: x509.X509Certificate, spec: LeafSpec, issuer: IssuingCa, deps: IssueDeps): Promise<string> {
  const lifetime = old.notAfter.getTime() - old.notBefore.getTime();
  const notBefore = new Date(deps.now.getTime() - BACKDATE_MS);
  return signLeaf(
    {
      subject: old.subjectName,
      sans: sansOf(parseCertificate(old.toString('pem'))),
      usages: spec.usages,
      publicKey: old.publicKey,
      ca: issuer,
      notBefore,
      notAfter: new Date(notBefore.getTime() + lifetime),
    },
    deps,
  );
}

async function findIssuer(cert: x509.X509Certificate, cas: IssuingCa[], deps: IssueDeps): Promise<IssuingCa | null> {
  for (const ca of cas) {
    if (ca.cert.subject === cert.issuer && (await cert.verify({ publicKey: ca.cert.publicKey, signatureOnly: true }, deps.crypto))) return ca;
  }
  return null;
}
