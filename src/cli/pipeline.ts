/** The steps gen, gen diff and gen check share: read the inventory, ensure the secrets, read the previous output. */
import type { Problem } from '../inventory/index.js';
import type { ClusterModel } from '../model/types.js';
import type { VersionChange } from '../model/upgrade.js';
import { ensureSecrets, type SecretChange } from '../pki/ensure.js';
import { certificateAuthorities, leafInstances } from '../pki/cert-list.js';
import { SecretsError } from '../pki/errors.js';
import { expiredCertificates } from '../pki/inspect.js';
import type { Secrets } from '../pki/secrets.js';
import type { Redaction } from '../review/diff.js';
import type { Invocation } from './args.js';
import type { Console } from './console.js';
import { printWarnings, readInventory } from './inventory-file.js';
import { checkVersionChange, previousOutputWarnings } from './previous.js';
import { loadSecrets } from './secrets-store.js';
import { readSteady } from './lock.js';
import type { Machine } from './machine.js';

/** A validated inventory, its warnings, and how its Kubernetes version moves from the previous output's. */
export interface CheckedInventory {
  model: ClusterModel;
  warnings: Problem[];
  versionChange: VersionChange;
}

/**
 * Reads the inventory and refuses a version change the output folder `outDir` cannot take (a skipped minor, a
 * downgrade); prints the warnings unless `quiet`.
 */
export function readCheckedInventory(invocation: Invocation, io: Console, machine: Machine, outDir: string, quiet: boolean): CheckedInventory {
  const { model, warnings } = readInventory(invocation.inventory!, machine.now);
  const versionChange = readSteady(outDir, 'output', machine, () => {
    const change = checkVersionChange(invocation.inventory!, outDir, model, invocation.forceVersionChange, io.err);
    warnings.push(...previousOutputWarnings(outDir, model));
    return change;
  });
  if (!quiet) printWarnings(io, invocation.inventory!, warnings);
  return { model, warnings, versionChange };
}

/** The secrets a generation uses: as stored, and complete (what was missing made in memory, not yet saved). */
export interface EnsuredSecrets {
  stored: Secrets;
  secrets: Secrets;
  /** The files made or re-issued, in the order made. */
  changes: SecretChange[];
}

/** Loads the secrets folder and makes what the model lacks, issued at the machine's `now`; refuses to ship an expired certificate. */
export async function ensureStoredSecrets(model: ClusterModel, secretsDir: string, machine: Machine, io: Console): Promise<EnsuredSecrets> {
  const stored = readSteady(secretsDir, 'secrets', machine, () => loadSecrets(secretsDir, { warn: io.err }));
  const { secrets, changes } = await ensureSecrets(model, stored, { now: machine.now, crypto: machine.crypto });
  refuseExpired(model, secrets, machine.now, secretsDir);
  return { stored, secrets, changes };
}

/** The secret values to hide in diffs. */
export function redactionsOf(secrets: Secrets): Redaction[] {
  if (!secrets.tokens) return [];
  return Object.entries(secrets.tokens).map(([label, value]) => ({ value: String(value), label: `redacted ${label}` }));
}

/** Refuses to ship an expired certificate (a CA, or a leaf of a host in the model), naming each and how to renew it (a CA cannot be renewed). */
function refuseExpired(model: ClusterModel, secrets: Secrets, now: Date, secretsDir: string): void {
  const cas = new Set(certificateAuthorities().map((c) => `${c.stem}.crt`));
  const shipped = new Set([...cas, ...leafInstances(model).map((l) => `${l.stem}.crt`)]);
  const files = new Map([...secrets.files].filter(([path]) => shipped.has(path)));
  const problems = expiredCertificates(files, now).map(({ path, notAfter }) => {
    const day = notAfter.toISOString().slice(0, 10);
    return cas.has(path)
      ? `${path}: the CA expired on ${day}; kubeha never replaces a CA: the cluster needs a new one (kubeadm's manual CA rotation)`
      : `${path}: expired on ${day}; run gen certs renew --secrets ${secretsDir}, then gen again`;
  });
  if (problems.length) throw new SecretsError(problems);
}
