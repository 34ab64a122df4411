/** The steps shared by gen, diff and check: read the inventory, make the secrets, compile, pack. */
import { readFileSync, existsSync } from 'node:fs';
export { readInventory, printWarnings } from './inventory-file.js';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { compileHost } from '../index.js';
import type { ClusterModel } from '../model/types.js';
import { ensureSecrets } from '../pki/ensure.js';
import type { Secrets } from '../pki/secrets.js';
import { buildTar, gzipReproducible } from '../bundle/tar.js';
import { readTarball } from '../bundle/untar.js';
import { sha256sums, type BundleFile } from '../bundle/manifest.js';
import type { Redaction } from '../review/diff.js';
import { progress, type Console } from './console.js';
import type { PackedHost, PackJob } from './pack-worker.js';
import type { Templates } from '../render/context.js';
import { Worker } from 'node:worker_threads';
import type { OutputFile } from './output.js';
import { loadSecrets } from './secrets-store.js';
import { readTemplates } from './templates.js';

/** Everything a generation produces, in memory. */
export interface Generation {
  model: ClusterModel;
  secrets: Secrets;
  /** Secrets files ensureSecrets made or re-issued (not yet saved). */
  secretChanges: string[];
  bundles: Map<string, BundleFile[]>;
  outputs: OutputFile[];
}

/** How many tarballs may wait to be written at once (bounds memory). */
const IN_FLIGHT = 16;
/** From this many hosts on, a worker thread packs a share of them (its start-up costs about 0.2 s). */
const WORKER_THRESHOLD = 150;
/** The worker's share: half (it loads its modules while the parent validates and checks secrets). */
const WORKER_SHARE = 0.5;

/** A worker thread started early (it loads its modules meanwhile), to pack a share of the hosts once given a job. */
export interface PackWorker {
  worker: Worker;
}

/** Starts a packing worker when the cluster is large enough for it to pay; null otherwise. */
export function preparePackWorker(hostCount: number): PackWorker | null {
  return hostCount >= WORKER_THRESHOLD ? { worker: new Worker(new URL('./pack-worker.js', import.meta.url)) } : null;
}

/** Gives the worker the last hosts; each result goes to `deliver`, in the order the worker finishes them. */
function runPackWorker(helper: PackWorker, model: ClusterModel, secrets: Secrets, templates: Templates, deliver: (file: OutputFile) => Promise<void>) {
  const { worker } = helper;
  const names = model.hosts.slice(model.hosts.length - Math.floor(model.hosts.length * WORKER_SHARE)).map((h) => h.name);
  let chain = Promise.resolve();
  let received = 0;
  const done = new Promise<void>((resolve, reject) => {
    worker.on('message', (packed: PackedHost) => {
      chain = chain.then(() => deliver({ name: `${packed.name}.tar.gz`, bytes: Buffer.from(packed.bytes.buffer, packed.bytes.byteOffset, packed.bytes.byteLength), mode: 0o600 }));
      if (++received === names.length) chain.then(() => worker.terminate()).then(() => resolve(), reject);
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (received < names.length) reject(new Error(`the packing worker stopped (exit ${code}) after ${received} of ${names.length} hosts`));
    });
  });
  const job: PackJob = { model, secrets, templates, hosts: names };
  worker.postMessage(job);
  return { hosts: new Set(names), done, stop: () => worker.terminate() };
}

/** Loads secrets, makes what is missing (in memory), compiles and packs every host; each tarball goes to `sink` as soon as it is ready. */
export async function generateInMemory(model: ClusterModel, secretsDir: string, io: Console, sink?: (file: OutputFile) => Promise<void>, packWorker: PackWorker | null = null): Promise<Generation> {
  const templates = readTemplates();
  const stored = loadSecrets(secretsDir);
  const { secrets, changes } = await ensureSecrets(model, stored, { now: new Date(), crypto: webcrypto as unknown as Crypto });
  const bundles = new Map<string, BundleFile[]>();
  const outputs: OutputFile[] = [];
  const tick = progress(io, 'building bundles', model.hosts.length);
  // Rendering, tar and gzip run on this thread, and on a second one for large clusters (measured: zlib's
  // thread pool costs more than it overlaps here). Writing, mostly system calls, runs on the thread pool.
  const pending = new Set<Promise<void>>();
  const deliver = async (file: OutputFile) => {
    outputs.push(file);
    tick(outputs.length);
    if (!sink) return;
    const job = sink(file);
    pending.add(job);
    void job.then(() => pending.delete(job), () => {});
    if (pending.size >= IN_FLIGHT) await Promise.race(pending);
  };
  const helper = sink && packWorker ? runPackWorker(packWorker, model, secrets, templates, deliver) : null;
  try {
    for (const host of model.hosts.filter((h) => !helper?.hosts.has(h.name))) {
      const files = compileHost(model, host, { secrets, templates });
      if (!sink) bundles.set(host.name, files);
      await deliver({ name: `${host.name}.tar.gz`, bytes: gzipReproducible(await buildTar(host.name, files)), mode: 0o600 });
    }
    await helper?.done;
    await Promise.all(pending);
  } catch (error) {
    await (helper?.stop() ?? packWorker?.worker.terminate());
    await Promise.allSettled(pending);
    throw error;
  }
  outputs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const sums: OutputFile = { name: 'SHA256SUMS', bytes: Buffer.from(sha256sums(outputs.map((o) => ({ path: o.name, bytes: o.bytes })))), mode: 0o644 };
  if (sink) await sink(sums);
  outputs.push(sums);
  return { model, secrets, secretChanges: changes, bundles, outputs };
}

/** Reads the bundles already in an output folder, by the names in its SHA256SUMS (or none). */
export function readExistingBundles(dir: string): { bundles: Map<string, BundleFile[]>; tarballs: Map<string, Buffer> } {
  const bundles = new Map<string, BundleFile[]>();
  const tarballs = new Map<string, Buffer>();
  const sums = join(dir, 'SHA256SUMS');
  if (!existsSync(sums)) return { bundles, tarballs };
  for (const line of readFileSync(sums, 'utf8').split('\n').filter(Boolean)) {
    const name = line.split(/\s+/)[1]!.replace(/^\*/, '');
    const host = name.replace(/\.tar\.gz$/, '');
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    const bytes = readFileSync(path);
    tarballs.set(name, bytes);
    bundles.set(host, readTarball(bytes, host));
  }
  return { bundles, tarballs };
}

/** The secret values to hide in diffs. */
export function redactionsOf(secrets: Secrets): Redaction[] {
  if (!secrets.tokens) return [];
  return Object.entries(secrets.tokens).map(([label, value]) => ({ value: String(value), label: `redacted ${label}` }));
}
