/** A worker thread that packs hosts alongside the main thread, both claiming them from one shared counter. */
import { parentPort } from 'node:worker_threads';
import type { ClusterModel } from '../model/types.js';
import type { Secrets } from '../pki/secrets.js';
import type { Templates } from '../render/context.js';
import { packHosts } from './pack.js';

/** What the parent sends: everything compile needs, and the shared counter of the next host to pack. */
export interface PackJob {
  model: ClusterModel;
  secrets: Secrets;
  templates: Templates;
  next: SharedArrayBuffer;
}

/** One packed host (bytes transferred, not copied), or the end of the worker's part. */
export type PackMessage = { name: string; bytes: Uint8Array; files: number } | { done: true };

// The job arrives as a message, so the worker loads its modules while the parent is still checking secrets.
parentPort?.once('message', async (job: PackJob) => {
  await packHosts(job.model, job.secrets, job.templates, new Int32Array(job.next), (name, gz, files) => {
    const message: PackMessage = { name, bytes: new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength), files: files.length };
    parentPort!.postMessage(message, gz.byteOffset === 0 && gz.byteLength === gz.buffer.byteLength ? [gz.buffer as ArrayBuffer] : []);
  });
  parentPort!.postMessage({ done: true } satisfies PackMessage);
});
