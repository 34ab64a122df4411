/** Checks the stored secrets against the model and makes only what is missing. CAs are never replaced. */
import type { X509Certificate } from 'node:crypto';
import type { ClusterModel } from '../model/types.js';
import { certificateAuthorities, keyPairs, leafInstances, type CaSpec, type KeyPairSpec, type LeafInstance } from './cert-list.js';
import { SecretsError } from './errors.js';
import { caProblem, checkKeyPair, checkPair, parseCertificate, sameSans, sameUsages, sansOf, subjectParts, wantedSubject, type StoredPair } from './inspect.js';
import type { IssueDeps } from './issue.js';
import { TOKENS_FILE, type Secrets } from './secrets.js';

/** What ensureSecrets did to one file of the secrets folder. */
export interface SecretChange {
  /** generated: a new CA, key pair or tokens file; issued: a new leaf; re-issued: a leaf that is not what the list asks for. */
  action: 'generated' | 'issued' | 're-issued';
  /** For a re-issued leaf: what differed from the certificate list (SANs, subject, usages). */
  changed?: string[];
  /** The file's path in the secrets folder, such as `etcd/ceph4-server.crt`. */
  path: string;
}

/** What each action says in gen's output. */
const ACTION_TEXT: Record<SecretChange['action'], string> = { generated: 'generated', issued: 'issued', 're-issued': 're-issued' };

/** A change as gen prints it (and lists it in --json): `issued etcd/ceph4-server.crt`, `re-issued (SANs changed) ...`. */
export function describeSecretChange(change: SecretChange): string {
  const why = change.changed?.length ? ` (${change.changed.join(', ')} changed)` : '';
  return `${ACTION_TEXT[change.action]}${why} ${change.path}`;
}

/** What ensureSecrets made: the complete bundle and each file it made, in the order made. */
export interface EnsureResult {
  secrets: Secrets;
  changes: SecretChange[];
}

/** What the stored bundle lacks, found without making anything. */
interface Plan {
  cas: CaSpec[];
  keyPairs: KeyPairSpec[];
  leaves: { leaf: LeafInstance; action: 'issued' | 're-issued'; changed?: string[] }[];
  tokens: boolean;
}

/** The issuing module, loaded only when something must be made. */
type Issuer = typeof import('./issue.js');

/** Records a made file in the new bundle and in the list of changes. */
type Put = (action: SecretChange['action'], path: string, text: string, changed?: string[]) => void;

/**
 * Returns the secrets with everything the model needs. Checking uses Node's native X.509 (fast: the usual re-run
 * loads no certificate library); only when something must be made is the issuing code loaded.
 */
export async function ensureSecrets(model: ClusterModel, stored: Secrets, deps: IssueDeps): Promise<EnsureResult> {
  const plan = check(model, stored);
  if (!plan.cas.length && !plan.keyPairs.length && !plan.leaves.length && !plan.tokens) return { secrets: stored, changes: [] };
  const issue = await import('./issue.js');
  const files = new Map(stored.files);
  const changes: SecretChange[] = [];
  const put: Put = (action, path, text, changed) => {
    files.set(path, text);
    changes.push(changed ? { action, path, changed } : { action, path });
  };
  for (const spec of plan.cas) {
    const made = await issue.generateCa(spec, model, deps);
    put('generated', `${spec.stem}.key`, made.keyPem);
    put('generated', `${spec.stem}.crt`, made.certPem);
  }
  for (const spec of plan.keyPairs) {
    const made = await issue.generateKeyPair(model.cluster.certificates.keyAlgorithm, deps);
    put('generated', `${spec.stem}.key`, made.keyPem);
    put('generated', `${spec.stem}.pub`, made.publicPem);
  }
  await issueLeaves(issue, plan.leaves, files, model, deps, put);
  const tokens = stored.tokens ?? issue.makeTokens(deps.crypto);
  if (plan.tokens) changes.push({ action: 'generated', path: TOKENS_FILE });
  return { secrets: { files, tokens }, changes };
}

/** Issues the planned leaves, each from its CA in `files` (loaded once per CA). */
async function issueLeaves(
  issue: Issuer,
  leaves: Plan['leaves'],
  files: ReadonlyMap<string, string>,
  model: ClusterModel,
  deps: IssueDeps,
  put: Put,
): Promise<void> {
  const issuers = new Map<string, Awaited<ReturnType<Issuer['loadIssuingCa']>>>();
  for (const { leaf, action, changed } of leaves) {
    const stem = certificateAuthorities().find((c) => c.name === leaf.spec.ca)!.stem;
    let ca = issuers.get(stem);
    if (!ca) {
      ca = await issue.loadIssuingCa(files.get(`${stem}.crt`)!, files.get(`${stem}.key`)!, deps);
      issuers.set(stem, ca);
    }
    const made = await issue.issueLeaf(leaf, ca, model, deps);
    put(action, `${leaf.stem}.key`, made.keyPem, changed);
    put(action, `${leaf.stem}.crt`, made.pem, changed);
  }
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
    if (pair === 'absent') plan.leaves.push({ leaf, action: 'issued' });
    if (!pair || pair === 'absent') continue;
    const cert = checkPair(pair, problems, 'delete both to have them issued again');
    if (!cert) continue;
    const ca = caCerts.get(leaf.spec.ca);
    if (!ca || !cert.verify(ca.publicKey)) {
      const caName = ca ? parseCertificate(ca.toString()).subject : `the new ${leaf.spec.ca}`;
      problems.push(`${pair.crtPath}: not issued by the stored CA ${caName}; delete ${pair.crtPath} and ${pair.keyPath} to have them issued again`);
      continue;
    }
    const changed = differences(cert, leaf);
    if (changed.length) plan.leaves.push({ leaf, action: 're-issued', changed });
  }
  if (problems.length) throw new SecretsError(problems);
  return plan;
}

/** What a stored leaf differs in from what the certificate list asks for: its SANs, its subject, its usages. */
function differences(cert: X509Certificate, leaf: LeafInstance): string[] {
  return [
    ...(sameSans(sansOf(parseCertificate(cert.toString())), leaf.spec.sans(leaf.host)) ? [] : ['SANs']),
    ...(subjectParts(cert).join() === wantedSubject(leaf.spec.subject(leaf.host)).join() ? [] : ['subject']),
    ...(sameUsages(cert, leaf.spec.usages) ? [] : ['usages']),
  ];
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
