/**
 * The only archive writer: a byte-reproducible <host>.tar.gz built from in-memory files. The tar headers are written
 * directly into one buffer, byte for byte what archiver (through tar-stream) writes for the same entries; archiver
 * itself builds the reference that tests and the bench compare against (it spends most of a build on stream turns).
 */
import { gzipSync } from 'node:zlib';
import { compareUtf8, type BundleFile } from './manifest.js';
import { PAX_HEADER_NAME, paxRecords, TAR_BLOCK, TAR_END, tarHeader, type Header } from './ustar.js';

/** Every entry's mtime: 2000-01-01T00:00:00Z, so the same files give the same bytes. */
export const FIXED_MTIME = new Date(Date.UTC(2000, 0, 1));
/** gzip level, pinned so output does not change with zlib defaults. */
export const GZIP_LEVEL = 6;
/** gzip header OS byte: 3 (Unix) on every platform. */
const GZIP_OS_UNIX = 3;

/** One block run of the tar: a header, or data padded to whole blocks. */
type Part = Buffer;

/** Builds `<folder>/...` as a tar (uid/gid 0, fixed mtime, sorted entries with explicit modes). */
export function buildTar(folder: string, files: readonly BundleFile[]): Buffer {
  const mtime = FIXED_MTIME.getTime() / 1000;
  const parts: Part[] = [];
  let size = TAR_END;
  const push = (part: Part, length = part.length) => {
    parts.push(part);
    size += padded(length);
  };
  for (const entry of entries(folder, files)) {
    const header: Header = { name: entry.name, mode: entry.mode, size: entry.bytes?.length ?? 0, mtime, type: entry.bytes ? 'file' : 'directory' };
    const plain = tarHeader(header);
    if (plain) {
      push(plain);
    } else {
      // The name fits no ustar header (too long to split, or not ASCII): a PAX record carries it, as tar-stream does.
      const records = paxRecords(entry.name);
      push(tarHeader({ ...header, name: PAX_HEADER_NAME, size: records.length, type: 'pax-header' })!);
      push(records);
      push(tarHeader({ ...header, name: PAX_HEADER_NAME })!);
    }
    if (entry.bytes && entry.bytes.length) push(entry.bytes);
  }
  const tar = Buffer.alloc(size);
  let offset = 0;
  for (const part of parts) {
    part.copy(tar, offset);
    offset += padded(part.length);
  }
  return tar;
}

/** The archiver build of the same tar (the reference the direct writer matches byte for byte). */
export async function buildTarWithArchiver(folder: string, files: readonly BundleFile[]): Promise<Buffer> {
  const { TarArchive } = await import('archiver');
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
export function buildTarball(folder: string, files: readonly BundleFile[]): Buffer {
  return gzipReproducible(buildTar(folder, files));
}

const padded = (length: number) => Math.ceil(length / TAR_BLOCK) * TAR_BLOCK;

interface Entry {
  name: string;
  mode: number;
  bytes: Buffer | null;
}

/** Directory entries for every parent, then files, all sorted by name. */
function entries(folder: string, files: readonly BundleFile[]): Entry[] {
  const dirs = new Set<string>([`${folder}/`]);
  for (const f of files) {
    for (let slash = f.path.indexOf('/'); slash >= 0; slash = f.path.indexOf('/', slash + 1)) dirs.add(`${folder}/${f.path.slice(0, slash)}/`);
  }
  const all: Entry[] = [
    ...[...dirs].map((name) => ({ name, mode: 0o755, bytes: null })),
    ...files.map((f) => ({ name: `${folder}/${f.path}`, mode: f.mode, bytes: f.bytes })),
  ];
  return all.sort((a, b) => compareUtf8(a.name, b.name));
}
