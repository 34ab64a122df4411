/**
 * The physical floor of a gen run, measured on the bytes the run wrote: gzip over the same tar bytes at the same
 * level (one thread), and writing the same files (count, sizes, modes) to the same folder the way gen does:
 * staged in `<out>.kubeha-new` without fsync, then swapped in by renames, the old folder removed.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GZIP_LEVEL } from '../src/bundle/tar.js';

/** Seconds (wall and CPU) of the floor's parts; `first` writes into a new folder, `rerun` replaces an existing one. */
export interface Floor {
  gzip: number;
  writeFirst: number;
  writeRerun: number;
  cpuGzip: number;
  cpuWriteRerun: number;
}

interface OutFile {
  name: string;
  mode: number;
  bytes: Buffer;
}

/** Measures the floor on the output folder `out` of a finished gen run; leaves `out` holding the same bytes. */
export function measureFloor(out: string): Floor {
  const names = readdirSync(out).sort();
  const tars = names.filter((n) => n.endsWith('.tar.gz')).map((n) => ({ name: n, tar: gunzipSync(readFileSync(join(out, n))) }));
  const sums = readFileSync(join(out, 'SHA256SUMS'));
  const gzip = timed(() => tars.map(({ name, tar }) => ({ name, mode: 0o600, bytes: gzipSync(tar, { level: GZIP_LEVEL }) })));
  const files: OutFile[] = [...gzip.value, { name: 'SHA256SUMS', mode: 0o644, bytes: sums }];
  for (const f of gzip.value) {
    f.bytes[9] = 3; // gen's constant OS byte; then the floor wrote exactly gen's bytes
    if (!f.bytes.equals(readFileSync(join(out, f.name)))) throw new Error(`${f.name}: gzip at level ${GZIP_LEVEL} gave other bytes than gen`);
  }
  const rerun = timed(() => writeAndSwap(out, files));
  rmSync(out, { recursive: true, force: true });
  const first = timed(() => writeAndSwap(out, files));
  return { gzip: gzip.seconds, writeFirst: first.seconds, writeRerun: rerun.seconds, cpuGzip: gzip.cpu, cpuWriteRerun: rerun.cpu };
}

/** gen's output swap: write every file into `<out>.kubeha-new`, then rename it over `out` (removing the old one). */
function writeAndSwap(out: string, files: readonly OutFile[]): void {
  const fresh = `${out}.kubeha-new`;
  const old = `${out}.kubeha-old`;
  mkdirSync(fresh);
  for (const f of files) writeFileSync(join(fresh, f.name), f.bytes, { mode: f.mode });
  if (exists(out)) {
    renameSync(out, old);
    renameSync(fresh, out);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(fresh, out);
  }
}

function exists(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Runs `work`, returning its value with the wall-clock and CPU seconds it took. */
function timed<T>(work: () => T): { value: T; seconds: number; cpu: number } {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const value = work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  return { value, seconds, cpu: (used.user + used.system) / 1e6 };
}
