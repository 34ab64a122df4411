/** A worker thread that compiles and packs a share of the hosts, so large clusters use both cores. */
import { parentPort } from 'node:worker_threads';
import { buildTar, gzipReproducible } from '../bundle/tar.js';
import { compileHost } from '../index.js';
import type { ClusterModel } from '../model/types.js';
import type { Secrets } from '../pki/secrets.js';
import type { Templates } from '../render/context.js';

/** What the parent sends: everything compile needs, and which hosts are this worker's. */
export interface PackJob {
  model: ClusterModel;
  secrets: Secrets;
  templates: Templates;
  hosts: string[];
}

/** One packed host, sent back with its bytes transferred (not copied). */
export interface PackedHost {
  name: string;
  bytes: Uint8Array;
}

// The job arrives as a message, so the worker can load its modules while the parent is still preparing secrets.
parentPort?.once('message', async (job: PackJob) => {
  const mine = new Set(job.hosts);
  for (const host of job.model.hosts.filter((h) => mine.has(h.name))) {
    const files = compileHost(job.model, host, { secrets: job.secrets, templates: job.templates });
    const gz = gzipReproducible(await buildTar(host.name, files));
    const message: PackedHost = { name: host.name, bytes: new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength) };
    parentPort!.postMessage(message, gz.byteOffset === 0 && gz.byteLength === gz.buffer.byteLength ? [gz.buffer as ArrayBuffer] : []);
  }
});
