/** A host's bundle as in-memory files: its rendered files plus SHA256SUMS over them, sorted by path. */
import { createHash } from 'node:crypto';
import { byPath } from '../common/files.js';
import { remembered } from '../common/memo.js';
import { SUMS_FILE } from '../common/output-layout.js';

/** A file of a bundle: path inside the host folder, mode, contents. */
export interface BundleFile {
  path: string;
  mode: number;
  bytes: Buffer;
}

/** The bundle of a host's rendered files: the files and SHA256SUMS of all of them, sorted by path. */
export function bundleFiles(rendered: readonly BundleFile[]): BundleFile[] {
  const files = [...rendered].sort(byPath);
  return [...files, { path: SUMS_FILE, mode: 0o644, bytes: Buffer.from(sha256sums(files), 'utf8') }].sort(byPath);
}

/** SHA-256 of a buffer, remembered for shared renders (the same Buffer object on every host). */
const digests = new WeakMap<Buffer, string>();

function sha256(bytes: Buffer): string {
  return remembered(digests, bytes, () => createHash('sha256').update(bytes).digest('hex'));
}

/** `sha256sum`-compatible lines for the given files, in their order. */
export function sha256sums(files: readonly { path: string; bytes: Buffer }[]): string {
  return files.map((f) => `${sha256(f.bytes)}  ${f.path}\n`).join('');
}
