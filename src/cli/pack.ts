/** Compiles, tars and gzips hosts one claim at a time, with up to IN_FLIGHT deliveries outstanding. */
import type { BundleFile } from '../bundle/manifest.js';
import { buildTarball } from '../bundle/tar.js';
import { compileHost } from '../index.js';
import type { ClusterModel } from '../model/types.js';
import type { Secrets } from '../pki/secrets.js';
import type { Templates } from '../render/context.js';
import { Worker } from 'node:worker_threads';
import type { PackJob, PackMessage } from './pack-worker.js';

/** How many packed hosts may wait for their delivery (the tar itself is built synchronously). */
export const IN_FLIGHT = 16;

/** Takes the next unclaimed host index from a counter shared between threads, or -1 when all are taken. */
export function claimHost(next: Int32Array, count: number): number {
  const index = Atomics.add(next, 0, 1);
  return index < count ? index : -1;
}

/** Packs every host this thread claims; `packed` receives each tarball (and the files, for diffs). */
export async function packHosts(
  model: ClusterModel, secrets: Secrets, templates: Templates, next: Int32Array,
  packed: (name: string, gz: Buffer, files: BundleFile[]) => Promise<void> | void,
): Promise<void> {
  const building: Promise<void>[] = [];
  try {
    for (let i = claimHost(next, model.hosts.length); i >= 0; i = claimHost(next, model.hosts.length)) {
      const host = model.hosts[i]!;
      const files = compileHost(model, host, { secrets, templates });
      building.push(Promise.resolve(packed(host.name, buildTarball(host.name, files), files)));
      if (building.length >= IN_FLIGHT) await building.shift();
    }
    await Promise.all(building);
  } catch (error) {
    await Promise.allSettled(building);
    throw error;
  }
}

/** A worker thread started early (it loads its modules meanwhile), to pack hosts alongside this one. */
export interface PackWorker {
  worker: Worker;
}

/** From this many hosts on, a worker thread packs hosts too (it costs about 0.3 s of start-up on the other core). */
const WORKER_THRESHOLD = 200;

/** Starts a packing worker when the cluster is large enough for it to pay; null otherwise. */
export function preparePackWorker(hostCount: number): PackWorker | null {
  return hostCount >= WORKER_THRESHOLD ? { worker: new Worker(new URL('./pack-worker.js', import.meta.url)) } : null;
}

/** Runs the worker on the shared counter (main thread side); resolves once it has packed its last host and every delivery is done. */
export function runPackWorker(helper: PackWorker, job: PackJob, deliver: (name: string, gz: Buffer, files: number) => Promise<void> | void): Promise<void> {
  const { worker } = helper;
  let chain: Promise<void> = Promise.resolve();
  const done = new Promise<void>((resolve, reject) => {
    let finished = false;
    worker.on('message', (message: PackMessage) => {
      if ('done' in message) {
        finished = true;
        chain.then(() => worker.terminate()).then(() => resolve(), reject);
        return;
      }
      const gz = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
      chain = chain.then(() => deliver(message.name, gz, message.files));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (!finished) reject(new Error(`the packing worker stopped (exit ${code}) before it finished`));
    });
  });
  worker.postMessage(job);
  return done;
}
