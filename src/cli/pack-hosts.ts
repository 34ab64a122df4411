/** The packing loop both threads run: claim the next host, compile it, tar and gzip it, hand it on. */
import type { BundleFile } from '../bundle/manifest.js';
import { buildTarball } from '../bundle/tar.js';
import type { CompiledCluster } from '../index.js';

/** How many packed hosts may wait for their delivery (the tar itself is built synchronously). */
export const IN_FLIGHT = 16;

/** Receives one packed host: its tarball (gzipped) and its files (for diffs). */
export type Packed = (name: string, gz: Buffer, files: BundleFile[]) => Promise<void> | void;

/** Takes the next unclaimed host index from a counter shared between threads, or -1 when all are taken. */
export function claimHost(next: Int32Array, count: number): number {
  const index = Atomics.add(next, 0, 1);
  return index < count ? index : -1;
}

/** Packs every host this thread claims from `next`, with up to IN_FLIGHT deliveries outstanding. */
export async function packHosts(compiled: CompiledCluster, next: Int32Array, packed: Packed): Promise<void> {
  const count = compiled.hosts.length;
  const building: Promise<void>[] = [];
  try {
    for (let i = claimHost(next, count); i >= 0; i = claimHost(next, count)) {
      const name = compiled.hosts[i]!.name;
      const files = compiled.hostFiles(i);
      building.push(Promise.resolve(packed(name, buildTarball(name, files), files)));
      if (building.length >= IN_FLIGHT) await building.shift();
    }
    await Promise.all(building);
  } catch (error) {
    await Promise.allSettled(building);
    throw error;
  }
}
