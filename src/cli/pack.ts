/**
 * Packs a compiled cluster into the output folder's files: one tarball per host, the rollout files and SHA256SUMS.
 * The performance machinery lives behind this seam: whether a worker thread helps (claiming hosts from a counter
 * shared with this thread), and how many writes may be outstanding.
 */
import { Worker } from 'node:worker_threads';
import { sha256sums, type BundleFile } from '../bundle/manifest.js';
import { compareUtf8 } from '../common/files.js';
import type { CompiledCluster } from '../index.js';
import { progress, type Console } from './console.js';
import type { OutputFile } from './output.js';
import { SUMS_FILE, tarballName } from '../common/output-layout.js';
import { IN_FLIGHT, packHosts } from './pack-hosts.js';
import type { PackJob, PackMessage } from './pack-worker.js';

/** Where packed files go as soon as each is ready (gen: the staged output folder). */
export type Sink = (file: OutputFile) => Promise<void>;

/** The output folder's files of a compiled cluster. */
export interface PackedOutput {
  /** Every file: tarballs and rollout files sorted by name, then SHA256SUMS. */
  files: OutputFile[];
  /** Files in all bundles together. */
  bundleFileCount: number;
}

/** Packs one compiled cluster into a sink; open it early, close it on every path. */
export interface Packer {
  /** The helper thread, null when this thread packs alone (exposed so that tests can watch it end). */
  readonly helper: Worker | null;
  /** Hands each file to `sink` as soon as it is ready: tarballs in the order packed, the rollout, SHA256SUMS last. */
  pack(compiled: CompiledCluster, sink: Sink, io: Console): Promise<PackedOutput>;
  /** Stops the helper thread (a live one would keep the process from exiting). */
  close(): Promise<void>;
}

/** From this many hosts on, a worker thread packs hosts too (it costs about 0.3 s of start-up on the other core). */
const WORKER_THRESHOLD = 200;

/** Opens a packer for `hostCount` hosts; a helper thread, when the cluster is large enough for it to pay, starts loading now. */
export function openPacker(hostCount: number): Packer {
  const helper = hostCount >= WORKER_THRESHOLD ? new Worker(new URL('./pack-worker.js', import.meta.url)) : null;
  return {
    helper,
    pack: (compiled, sink, io) => packStreaming(compiled, sink, io, helper),
    close: async () => {
      await helper?.terminate();
    },
  };
}

/** The output files, and every host's files by host name (gen diff and gen check compare them). */
export interface PackedInMemory extends PackedOutput {
  bundles: Map<string, BundleFile[]>;
}

/** Packs on this thread and keeps every host's files; writes nothing. */
export async function packInMemory(compiled: CompiledCluster, io: Console): Promise<PackedInMemory> {
  const bundles = new Map<string, BundleFile[]>();
  const tarballs: OutputFile[] = [];
  const tick = progress(io, 'building bundles', compiled.hosts.length);
  await packHosts(compiled, new Int32Array(new SharedArrayBuffer(4)), (name, gz, files) => {
    bundles.set(name, files);
    tarballs.push(tarballFile(name, gz));
    tick(tarballs.length);
  });
  const files = withSums([...tarballs, ...rolloutFiles(compiled)]);
  return { files, bundleFileCount: [...bundles.values()].reduce((n, f) => n + f.length, 0), bundles };
}

/** Packs into `sink`, with `helper` (when there is one) claiming hosts from the same counter as this thread. */
async function packStreaming(compiled: CompiledCluster, sink: Sink, io: Console, helper: Worker | null): Promise<PackedOutput> {
  const tarballs: OutputFile[] = [];
  let bundleFileCount = 0;
  const tick = progress(io, 'building bundles', compiled.hosts.length);
  const writes = boundedWrites(sink);
  const deliver = async (name: string, gz: Buffer, fileCount: number) => {
    bundleFileCount += fileCount;
    const file = tarballFile(name, gz);
    tarballs.push(file);
    tick(tarballs.length);
    await writes.write(file);
  };
  // Whoever is free takes the next host, so the helper's later start evens out by itself.
  const next = new SharedArrayBuffer(4);
  const helping = helper ? runHelper(helper, { model: compiled.model, deps: compiled.deps, next }, deliver) : null;
  try {
    await packHosts(compiled, new Int32Array(next), (name, gz, files) => deliver(name, gz, files.length));
    await helping;
    await writes.done();
  } catch (error) {
    helping?.catch(() => {}); // stopped below: its own failure is not the one to report
    await helper?.terminate();
    await writes.settled();
    throw error;
  }
  const rollout = rolloutFiles(compiled);
  for (const file of rollout) await sink(file);
  const files = withSums([...tarballs, ...rollout]);
  await sink(files.at(-1)!);
  return { files, bundleFileCount };
}

/** Calls `sink` without waiting for it, keeping at most IN_FLIGHT writes outstanding (they run on the thread pool meanwhile). */
function boundedWrites(sink: Sink) {
  const writing = new Set<Promise<void>>();
  return {
    write: async (file: OutputFile) => {
      const job = sink(file);
      writing.add(job);
      void job.then(
        () => writing.delete(job),
        () => {},
      );
      if (writing.size >= IN_FLIGHT) await Promise.race(writing);
    },
    done: () => Promise.all(writing),
    settled: () => Promise.allSettled(writing),
  };
}

/** Runs the helper thread on `job`; resolves once it has packed its last host and every delivery is done. */
function runHelper(helper: Worker, job: PackJob, deliver: (name: string, gz: Buffer, files: number) => Promise<void>): Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  const done = new Promise<void>((resolve, reject) => {
    let finished = false;
    helper.on('message', (message: PackMessage) => {
      if ('done' in message) {
        finished = true;
        chain.then(() => helper.terminate()).then(() => resolve(), reject);
        return;
      }
      const gz = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
      chain = chain.then(() => deliver(message.name, gz, message.files));
    });
    helper.on('error', reject);
    helper.on('exit', (code) => {
      if (!finished) reject(new Error(`the packing worker stopped (exit ${code}) before it finished`));
    });
  });
  helper.postMessage(job);
  return done;
}

/** A host's tarball as an output file (0600: it holds private keys). */
function tarballFile(host: string, gz: Buffer): OutputFile {
  return { name: tarballName(host), bytes: gz, mode: 0o600 };
}

/** The files beside the tarballs (the Ansible inventory and playbook, the picture) as output files. */
function rolloutFiles(compiled: CompiledCluster): OutputFile[] {
  return [...compiled.rollout(), compiled.picture()].map((file) => ({ name: file.path, bytes: file.bytes, mode: file.mode }));
}

/** The files sorted by name, then SHA256SUMS listing them. */
function withSums(files: OutputFile[]): OutputFile[] {
  const sorted = [...files].sort((a, b) => compareUtf8(a.name, b.name));
  const sums = sha256sums(sorted.map((o) => ({ path: o.name, bytes: o.bytes })));
  return [...sorted, { name: SUMS_FILE, bytes: Buffer.from(sums), mode: 0o644 }];
}
