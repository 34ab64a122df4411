/** The steps shared by gen, diff and check: read the inventory, make the secrets, compile, pack. */
import { readFileSync, existsSync } from 'node:fs';
export { readInventory, printWarnings } from './inventory-file.js';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import type { ClusterModel } from '../model/types.js';
import { ensureSecrets } from '../pki/ensure.js';
import { certificateAuthorities, leafInstances } from '../pki/cert-list.js';
import { SecretsError } from '../pki/errors.js';
import { expiredCertificates } from '../pki/inspect.js';
import type { Secrets } from '../pki/secrets.js';
import { readTarball } from '../bundle/untar.js';
import { sha256sums, type BundleFile } from '../bundle/manifest.js';
import { compareUtf8 } from '../common/files.js';
import { compileRollout, type RolloutFile } from '../index.js';
import type { Redaction } from '../review/diff.js';
import { progress, type Console } from './console.js';
import { IN_FLIGHT, packHosts, runPackWorker, type PackWorker } from './pack.js';
import { namesInSums, type OutputFile } from './output.js';
import { loadSecrets } from './secrets-store.js';
import { readTemplates } from './template-folder.js';

/** Everything a generation produces, in memory. */
export interface Generation {
  model: ClusterModel;
  /** The secrets as loaded from the folder. */
  stored: Secrets;
  /** The secrets with everything the model needs. */
  secrets: Secrets;
  /** Secrets files ensureSecrets made or re-issued (not yet saved). */
  secretChanges: string[];
  bundles: Map<string, BundleFile[]>;
  /** The Ansible inventory and playbook, by their paths under the output folder. */
  rollout: RolloutFile[];
  outputs: OutputFile[];
  /** Files in all bundles together. */
  fileCount: number;
}

/** Loads secrets, makes what is missing (in memory), compiles and packs every host; each tarball goes to `sink` as soon as it is ready. */
export async function generateInMemory(model: ClusterModel, secretsDir: string, io: Console, sink?: (file: OutputFile) => Promise<void>, helper: PackWorker | null = null): Promise<Generation> {
  const templates = readTemplates();
  const stored = loadSecrets(secretsDir, { warn: io.err });
  const now = new Date();
  const { secrets, changes } = await ensureSecrets(model, stored, { now, crypto: webcrypto as unknown as Crypto });
  refuseExpired(model, secrets, now, secretsDir);
  const bundles = new Map<string, BundleFile[]>();
  const outputs: OutputFile[] = [];
  const tick = progress(io, 'building bundles', model.hosts.length);
  // Writing the files, mostly system calls, runs on the thread pool while hosts are packed.
  const writing = new Set<Promise<void>>();
  let fileCount = 0;
  const deliver = async (name: string, gz: Buffer, files: number) => {
    fileCount += files;
    const file = { name: `${name}.tar.gz`, bytes: gz, mode: 0o600 };
    outputs.push(file);
    tick(outputs.length);
    if (!sink) return;
    const job = sink(file);
    writing.add(job);
    void job.then(() => writing.delete(job), () => {});
    if (writing.size >= IN_FLIGHT) await Promise.race(writing);
  };
  // This thread and the worker (large clusters with a sink only) claim hosts from one counter: whoever is free
  // takes the next, so the worker's later start evens out by itself.
  const next = new SharedArrayBuffer(4);
  const worker = sink && helper ? runPackWorker(helper, { model, secrets, templates, next }, deliver) : null;
  try {
    await packHosts(model, secrets, templates, new Int32Array(next), async (name, gz, files) => {
      if (!sink) bundles.set(name, files);
      await deliver(name, gz, files.length);
    });
    await worker;
    await Promise.all(writing);
  } catch (error) {
    worker?.catch(() => {}); // stopped below: its own failure is not the one to report
    await helper?.worker.terminate();
    await Promise.allSettled(writing);
    throw error;
  }
  const rollout = compileRollout(model, templates);
  for (const file of rollout) {
    const out = { name: file.path, bytes: file.bytes, mode: file.mode };
    outputs.push(out);
    if (sink) await sink(out);
  }
  outputs.sort((a, b) => compareUtf8(a.name, b.name));
  const sums: OutputFile = { name: 'SHA256SUMS', bytes: Buffer.from(sha256sums(outputs.map((o) => ({ path: o.name, bytes: o.bytes })))), mode: 0o644 };
  if (sink) await sink(sums);
  outputs.push(sums);
  return { model, stored, secrets, secretChanges: changes, bundles, rollout, outputs, fileCount };
}

/** Reads what an output folder holds, by the names in its SHA256SUMS (or none): host bundles and the other files (rollout). */
export function readExistingBundles(dir: string): { bundles: Map<string, BundleFile[]>; tarballs: Map<string, Buffer>; others: Map<string, Buffer> } {
  const bundles = new Map<string, BundleFile[]>();
  const tarballs = new Map<string, Buffer>();
  const others = new Map<string, Buffer>();
  for (const name of namesInSums(dir)) {
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    const bytes = readFileSync(path);
    if (!name.endsWith('.tar.gz')) {
      others.set(name, bytes);
      continue;
    }
    tarballs.set(name, bytes);
    bundles.set(name.slice(0, -'.tar.gz'.length), readTarball(bytes, name.slice(0, -'.tar.gz'.length)));
  }
  return { bundles, tarballs, others };
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
