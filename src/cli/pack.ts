/** Compiles, tars and gzips hosts one claim at a time, with up to IN_FLIGHT tar builds overlapping. */
import type { BundleFile } from '../bundle/manifest.js';
import { buildTar, gzipReproducible } from '../bundle/tar.js';
import { compileHost } from '../index.js';
import type { ClusterModel } from '../model/types.js';
import type { Secrets } from '../pki/secrets.js';
import type { Templates } from '../render/context.js';

/** How many tar builds overlap (a build mostly waits on archiver's stream turns). */
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
      building.push(buildTar(host.name, files).then((tar) => packed(host.name, gzipReproducible(tar), files)));
      if (building.length >= IN_FLIGHT) await building.shift();
    }
    await Promise.all(building);
  } catch (error) {
    await Promise.allSettled(building);
    throw error;
  }
}
