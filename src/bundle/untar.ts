/** Reads the tarballs kubeha writes (ustar, regular files and folders) back into memory for review. */
import { gunzipSync } from 'node:zlib';
import type { BundleFile } from './manifest.js';

/** The files of a `<host>.tar.gz`, paths relative to the host folder (`run.sh`, `rootfs/etc/...`). */
export function readTarball(gz: Buffer, folder: string): BundleFile[] {
  const tar = gunzipSync(gz);
  const files: BundleFile[] = [];
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, end: number) =>
      header
        .subarray(start, end)
        .toString('utf8')
        .replace(/\0[\s\S]*$/, '');
    const octal = (start: number, end: number) => parseInt(field(start, end).trim() || '0', 8);
    const prefix = field(345, 500);
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = octal(124, 136);
    const type = field(156, 157);
    const body = tar.subarray(offset + 512, offset + 512 + size);
    offset += 512 + Math.ceil(size / 512) * 512;
    if (type !== '0' && type !== '') continue;
    if (!name.startsWith(`${folder}/`)) throw new Error(`${folder}.tar.gz: entry ${name} is outside ${folder}/`);
    files.push({ path: name.slice(folder.length + 1), mode: octal(100, 108) & 0o7777, bytes: Buffer.from(body) });
  }
  return files;
}
