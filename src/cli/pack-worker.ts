/** A worker thread that packs hosts alongside the main thread, both claiming them from one shared counter. */
import { parentPort } from 'node:worker_threads';
import { compile, type CompileDeps } from '../index.js';
import type { ClusterModel } from '../model/types.js';
import { packHosts } from './pack-hosts.js';

/** What the parent sends: the inputs of compile (the worker compiles the hosts it claims), and the shared counter. */
export interface PackJob {
  model: ClusterModel;
  deps: CompileDeps;
  next: SharedArrayBuffer;
}

/** One packed host (bytes transferred, not copied), or the end of the worker's part. */
export type PackMessage = { name: string; bytes: Uint8Array; files: number } | { done: true };

// The job arrives as a message, so the worker loads its modules while the parent is still checking secrets.
parentPort?.once('message', async (job: PackJob) => {
  await packHosts(compile(job.model, job.deps), new Int32Array(job.next), (name, gz, files) => {
    const message: PackMessage = { name, bytes: new Uint8Array(gz.buffer, gz.byteOffset, gz.byteLength), files: files.length };
    parentPort!.postMessage(message, gz.byteOffset === 0 && gz.byteLength === gz.buffer.byteLength ? [gz.buffer as ArrayBuffer] : []);
  });
  parentPort!.postMessage({ done: true } satisfies PackMessage);
});
