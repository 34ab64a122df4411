/** Checks the stored secrets against the model and makes only what is missing. CAs are never replaced. */
import type { X509Certificate } from 'node:crypto';
import type { ClusterModel } from '../model/types.js';
import { certificateAuthorities, keyPairs, leafInstances, type CaSpec, type KeyPairSpec, type LeafInstance } from './cert-list.js';
import { SecretsError } from './errors.js';
import { caProblem, checkKeyPair, checkPair, parseCertificate, sameSans, sansOf, type StoredPair } from './inspect.js';
import type { IssueDeps } from './issue.js';
import type { Secrets } from './secrets.js';

/** What ensureSecrets made: the complete bundle and one line per file it wrote. */
export interface EnsureResult {
  secrets: Secrets;
  changes: string[];
}

/** What the stored bundle lacks, found without making anything. */
interface Plan {
  cas: CaSpec[];
  keyPairs: KeyPairSpec[];
  leaves: { leaf: LeafInstance; why: string }[];
  tokens: boolean;
}

/**
 * Returns the secrets with everything the model needs. Checking uses Node's native X.509 (fast: the usual re-run
 * loads no certificate library); only when something must be made is the issuing code loaded.
 */
export async function ensureSecrets(model: ClusterModel, stored: Secrets, deps: IssueDeps): Promise<EnsureResult> {
  const plan = check(model, stored);
  if (!plan.cas.length && !plan.keyPairs.length && !plan.leaves.length && !plan.tokens) return { secrets: stored, changes: [] };
  const issue = await import('./issue.js');
  const files = new Map(stored.files);
  const changes: string[] = [];
  const put = (path: string, text: string, why: string) => {
    files.set(path, text);
    changes.push(`${why} ${path}`);
  };
  for (const spec of plan.cas) {
    const made = await issue.generateCa(spec, model, deps);
    put(`${spec.stem}.key`, made.keyPem, 'generated');
    put(`${spec.stem}.crt`, made.certPem, 'generated');
  }
  for (const spec of plan.keyPairs) {
    const made = await issue.generateKeyPair(model.cluster.certificates.keyAlgorithm, deps);
    put(`${spec.stem}.key`, made.keyPem, 'generated');
    put(`${spec.stem}.pub`, made.publicPem, 'generated');
  }
  const issuers = new Map<string, Awaited<ReturnType<typeof issue.loadIssuingCa>>>();
  for (const { leaf, why } of plan.leaves) {
    const stem = certificateAuthorities().find((c) => c.name === leaf.spec.ca)!.stem;
    let ca = issuers.get(stem);
    if (!ca) issuers.set(stem, (ca = await issue.loadIssuingCa(files.get(`${stem}.crt`)!, files.get(`${stem}.key`)!, deps)));
    const made = await issue.issueLeaf(leaf, ca, model, deps);
    put(`${leaf.stem}.key`, made.keyPem, why);
    put(`${leaf.stem}.crt`, made.pem, why);
  }
  const tokens = stored.tokens ?? issue.makeTokens(deps.crypto);
  if (plan.tokens) changes.push('generated tokens.json');
  return { secrets: { files, tokens }, changes };
}

/** Finds what is missing or must be re-issued; throws SecretsError for anything inconsistent. */
function check(model: ClusterModel, stored: Secrets): Plan {
  const problems: string[] = [];
  const plan: Plan = { cas: [], keyPairs: [], leaves: [], tokens: stored.tokens === null };
  const caCerts = new Map<string, X509Certificate>();
  for (const spec of certificateAuthorities()) {
    const pair = present(stored, spec.stem, 'crt', 'key', problems, 'restore it from your backup (kubeha never replaces a CA)');
    if (pair === 'absent') plan.cas.push(spec);
    else if (pair) {
      const cert = checkPair(pair, problems, 'restore both from your backup (kubeha never replaces a CA)');
      const notCa = cert && caProblem(pair.crtPath, cert);
      if (cert && !cert.verify(cert.publicKey)) problems.push(`${pair.crtPath}: not a self-signed CA certificate`);
      else if (notCa) problems.push(notCa);
      else if (cert) caCerts.set(spec.name, cert);
    }
  }
  for (const spec of keyPairs()) {
    const pair = present(stored, spec.stem, 'pub', 'key', problems, 'restore it from your backup');
    if (pair === 'absent') plan.keyPairs.push(spec);
    else if (pair) checkKeyPair(pair, problems, 'restore both from your backup (a new pair would invalidate every service-account token)');
  }
  if (problems.length) throw new SecretsError(problems);
  for (const leaf of leafInstances(model)) {
    const pair = present(stored, leaf.stem, 'crt', 'key', problems, 'delete both to have them issued again');
    if (pair === 'absent') plan.leaves.push({ leaf, why: 'issued' });
    if (!pair || pair === 'absent') continue;
    const cert = checkPair(pair, problems, 'delete both to have them issued again');
    if (!cert) continue;
    const ca = caCerts.get(leaf.spec.ca);
    if (!ca || !cert.verify(ca.publicKey)) {
      const caName = ca ? parseCertificate(ca.toString()).subject : `the new ${leaf.spec.ca}`;
      problems.push(`${pair.crtPath}: not issued by the stored CA ${caName}; delete ${pair.crtPath} and ${pair.keyPath} to have them issued again`);
      continue;
    }
    if (!sameSans(sansOf(parseCertificate(pair.crt)), leaf.spec.sans(leaf.host))) plan.leaves.push({ leaf, why: 're-issued (SANs changed)' });
  }
  if (problems.length) throw new SecretsError(problems);
  return plan;
}

/** Both files of a pair, 'absent' when neither exists, null (with a problem) when only one does. */
function present(stored: Secrets, stem: string, publicExt: string, privateExt: string, problems: string[], advice: string): StoredPair | 'absent' | null {
  const crtPath = `${stem}.${publicExt}`;
  const keyPath = `${stem}.${privateExt}`;
  const crt = stored.files.get(crtPath);
  const key = stored.files.get(keyPath);
  if (crt !== undefined && key !== undefined) return { crtPath, keyPath, crt, key };
  if (crt === undefined && key === undefined) return 'absent';
  problems.push(`${crt === undefined ? crtPath : keyPath}: missing while ${crt === undefined ? keyPath : crtPath} exists; ${advice}`);
  return null;
}
