/** The only archive writer: a byte-reproducible <host>.tar.gz built from in-memory files. */
import { gzipSync } from 'node:zlib';
import { TarArchive } from 'archiver';
import { compareUtf8 } from '../common/files.js';
import type { BundleFile } from './manifest.js';

/** Every entry's mtime: 2000-01-01T00:00:00Z, so the same files give the same bytes. */
export const FIXED_MTIME = new Date(Date.UTC(2000, 0, 1));
/** gzip level, pinned so output does not change with zlib defaults. */
export const GZIP_LEVEL = 6;
/** gzip header OS byte: 3 (Unix) on every platform. */
const GZIP_OS_UNIX = 3;

/** Builds `<folder>/...` as a tar (uid/gid 0, fixed mtime, sorted entries with explicit modes). */
export async function buildTar(folder: string, files: readonly BundleFile[]): Promise<Buffer> {
  const archive = new TarArchive({ gzip: false });
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    archive.on('end', () => resolve());
    archive.on('error', reject);
    archive.on('warning', reject);
  });
  for (const entry of entries(folder, files)) {
    if (entry.bytes === null) archive.append(Buffer.alloc(0), { name: entry.name, type: 'directory', mode: 0o755, date: FIXED_MTIME });
    else archive.append(entry.bytes, { name: entry.name, mode: entry.mode, date: FIXED_MTIME });
  }
  await archive.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** gzip with a pinned level and a constant header (no name, mtime 0, Unix OS byte). */
export function gzipReproducible(tar: Buffer): Buffer {
  const gz = gzipSync(tar, { level: GZIP_LEVEL });
  gz[9] = GZIP_OS_UNIX;
  return gz;
}

/** Builds `<folder>.tar.gz` bytes. */
export async function buildTarball(folder: string, files: readonly BundleFile[]): Promise<Buffer> {
  return gzipReproducible(await buildTar(folder, files));
}

interface Entry {
  name: string;
  mode: number;
  bytes: Buffer | null;
}

/** Directory entries for every parent, then files, all sorted by name. */
function entries(folder: string, files: readonly BundleFile[]): Entry[] {
  const dirs = new Set<string>([`${folder}/`]);
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(`${folder}/${parts.slice(0, i).join('/')}/`);
  }
  const all: Entry[] = [
    ...[...dirs].map((name) => ({ name, mode: 0o755, bytes: null })),
    ...files.map((f) => ({ name: `${folder}/${f.path}`, mode: f.mode, bytes: f.bytes })),
  ];
  return all.sort((a, b) => compareUtf8(a.name, b.name));
}
