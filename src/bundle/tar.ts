/**
 * The only archive writer: a byte-reproducible <host>.tar.gz built from in-memory files. The tar headers are written
 * directly into one buffer, byte for byte what archiver (through tar-stream) writes for the same entries; archiver
 * itself builds the reference that tests and the bench compare against (it spends most of a build on stream turns).
 */
import { gzipSync } from 'node:zlib';
import { compareUtf8 } from '../common/files.js';
import type { BundleFile } from './manifest.js';
import { nameFields, PAX_HEADER_NAME, paxRecords, TAR_BLOCK, TAR_END, writeHeader, type Header } from './ustar.js';

/** Every entry's mtime: 2000-01-01T00:00:00Z, so the same files give the same bytes. */
export const FIXED_MTIME = new Date(Date.UTC(2000, 0, 1));
/** Every folder entry's mode. */
export const FOLDER_MODE = 0o755;
/** gzip level, pinned so output does not change with zlib defaults. */
export const GZIP_LEVEL = 6;
/** gzip header OS byte: 3 (Unix) on every platform. */
const GZIP_OS_UNIX = 3;

/** Builds `<folder>/...` as a tar (uid/gid 0, fixed mtime, sorted entries with explicit modes), in one buffer. */
export function buildTar(folder: string, files: readonly BundleFile[]): Buffer {
  const mtime = FIXED_MTIME.getTime() / 1000;
  const planned = entries(folder, files).map((entry) => {
    const header: Header = { name: entry.name, mode: entry.mode, size: entry.bytes?.length ?? 0, mtime, type: entry.bytes ? 'file' : 'directory' };
    const fields = nameFields(entry.name);
    // A name that fits no ustar header goes in a PAX record, as tar-stream writes it.
    const pax = fields ? null : paxRecords(entry.name);
    return { header, fields, pax, bytes: entry.bytes };
  });
  const size = planned.reduce((n, p) => n + TAR_BLOCK + (p.pax ? TAR_BLOCK + padded(p.pax.length) : 0) + padded(p.header.size), TAR_END);
  const tar = Buffer.alloc(size);
  let at = 0;
  const put = (bytes: Buffer) => {
    bytes.copy(tar, at);
    at += padded(bytes.length);
  };
  for (const { header, fields, pax, bytes } of planned) {
    if (pax) {
      const paxFields = { name: PAX_HEADER_NAME, prefix: '' };
      writeHeader(tar, at, { ...header, size: pax.length, type: 'pax-header' }, paxFields);
      at += TAR_BLOCK;
      put(pax);
      writeHeader(tar, at, header, paxFields);
    } else {
      writeHeader(tar, at, header, fields!);
    }
    at += TAR_BLOCK;
    if (bytes) put(bytes);
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
    if (entry.bytes === null) archive.append(Buffer.alloc(0), { name: entry.name, type: 'directory', mode: FOLDER_MODE, date: FIXED_MTIME });
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
    ...[...dirs].map((name) => ({ name, mode: FOLDER_MODE, bytes: null })),
    ...files.map((f) => ({ name: `${folder}/${f.path}`, mode: f.mode, bytes: f.bytes })),
  ];
  return all.sort((a, b) => compareUtf8(a.name, b.name));
}
