/**
 * Reads a `<host>.tar.gz` back for review, as GNU tar would extract it: every entry type (files, folders, links,
 * devices, pipes), PAX and GNU long names, checked headers. A tarball is input kubeha may not have written: a damaged,
 * foreign or hostile one is a TarballError in words, never a crash, and gunzip's output is capped. Pure.
 */
import { gunzipSync } from 'node:zlib';
import type { BundleFile } from './manifest.js';
import { TAR_BLOCK } from './ustar.js';

/** What an entry is, as GNU tar extracts it. */
export type EntryType = 'file' | 'folder' | 'symbolic link' | 'hard link' | 'character device' | 'block device' | 'named pipe' | 'sparse file';

/** One entry of a tarball read back: a file (with its bytes) or anything else GNU tar would extract. */
export interface TarEntry extends BundleFile {
  type: EntryType;
  /** Where a symbolic or hard link points, as stored. */
  target?: string;
  /** A device's numbers, `major,minor`. */
  device?: string;
  /** The entry does not lie inside `<host>/` (`path` is then its whole name): GNU tar puts it elsewhere. */
  outside?: boolean;
  /** How GNU tar treats an unusual entry (an unknown type, a name met twice). */
  note?: string;
}

/** A tarball that cannot be read as one: the reason, in words. */
export class TarballError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarballError';
  }
}

/** Largest tar a bundle may unpack to: kubeha's are some 100 KiB; this leaves room for any cluster and stops a gzip bomb. */
export const MAX_TAR_BYTES = 64 * 1024 * 1024;

/** The entries of a `<host>.tar.gz`, paths relative to the host folder (`run.sh`, `rootfs/etc/...`; `` for the folder). */
export function readTarball(gz: Buffer, folder: string, maxTarBytes = MAX_TAR_BYTES): TarEntry[] {
  return readTar(gunzip(gz, maxTarBytes), folder);
}

/** gunzip with its output capped; zlib's failures in words. */
function gunzip(gz: Buffer, max: number): Buffer {
  try {
    return gunzipSync(gz, { maxOutputLength: max });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new TarballError(`unpacks to more than ${max} bytes (a gzip bomb?); a kubeha bundle is far smaller`);
    if (code === 'Z_BUF_ERROR') throw new TarballError('cut short: the gzip data ends early');
    throw new TarballError(`not gzip data, or damaged (${message})`);
  }
}

/** Keywords of PAX and GNU long-name headers that change the next entry (or, global, every later one). */
interface Overrides {
  path?: string;
  linkpath?: string;
  size?: number;
}

/** The entries of an uncompressed tar, as GNU tar extracts them: later entries of the same path replace earlier ones. */
export function readTar(tar: Buffer, folder: string): TarEntry[] {
  const entries = new Map<string, TarEntry>();
  const global: Overrides = {};
  let next: Overrides = {};
  for (let at = 0; ; ) {
    if (at + TAR_BLOCK > tar.length) throw new TarballError(`cut short at byte ${at}: no end-of-archive blocks`);
    const header = tar.subarray(at, at + TAR_BLOCK);
    if (header.every((b) => b === 0)) break;
    checkHeader(header, at);
    const flag = String.fromCharCode(header[156]!);
    const extension = flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K';
    const stored = numberField(header, 124, 136, at, 'size');
    const size = extension ? stored : (next.size ?? global.size ?? stored);
    const body = tar.subarray(at + TAR_BLOCK, at + TAR_BLOCK + size);
    if (body.length < size) throw new TarballError(`cut short at byte ${tar.length}: an entry declares ${size} bytes`);
    at += TAR_BLOCK + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
    if (flag === 'x' || flag === 'g') Object.assign(flag === 'x' ? next : global, paxRecords(body, at));
    else if (flag === 'L' || flag === 'K') next[flag === 'L' ? 'path' : 'linkpath'] = cString(body);
    else if (flag !== 'V') {
      const entry = entryOf(header, flag, { ...global, ...next }, body, folder, at);
      const key = `${entry.outside ? '/' : ''}${entry.path}`;
      if (entries.has(key)) entry.note = 'appears more than once: GNU tar keeps the last, shown here';
      entries.set(key, entry);
      next = {};
    }
  }
  return [...entries.values()];
}

/** Entry types by typeflag; anything else GNU tar extracts as a file ('7', contiguous, is one too). */
const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hard link',
  '2': 'symbolic link',
  '3': 'character device',
  '4': 'block device',
  '5': 'folder',
  '6': 'named pipe',
  D: 'folder',
  S: 'sparse file',
};

/** One entry from its header, the names PAX or GNU headers gave it, and its data. */
function entryOf(header: Buffer, flag: string, names: Overrides, body: Buffer, folder: string, end: number): TarEntry {
  const name = names.path ?? ustarName(header);
  let type = TYPES[flag];
  const note = type ? undefined : `of unknown type '${flag}': GNU tar extracts it as a file`;
  type ??= 'file';
  if (type === 'file' && name.endsWith('/') && flag !== '7') type = 'folder';
  if (body.length > 0 && type !== 'file' && type !== 'sparse file' && flag !== 'D')
    throw new TarballError(`entry ${name} (a ${type}) carries ${body.length} bytes of data before byte ${end}: tar readers disagree on such entries`);
  const place = placeOf(name, folder);
  const entry: TarEntry = { ...place, type, mode: numberField(header, 100, 108, end, 'mode') & 0o7777, bytes: type === 'file' ? body : Buffer.alloc(0) };
  if (type === 'symbolic link' || type === 'hard link') entry.target = names.linkpath ?? text(header, 157, 257);
  if (type === 'character device' || type === 'block device')
    entry.device = `${numberField(header, 329, 337, end, 'device major')},${numberField(header, 337, 345, end, 'device minor')}`;
  if (type === 'sparse file') entry.bytes = body;
  if (note) entry.note = note;
  return entry;
}

/** Where an entry lands: inside `<folder>/` (its path relative to it) or outside (its whole name, flagged). */
function placeOf(name: string, folder: string): { path: string; outside?: boolean } {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return { path: name, outside: true };
    parts.push(part);
  }
  if (name.startsWith('/') || parts[0] !== folder) return { path: name, outside: true };
  return { path: parts.slice(1).join('/') };
}

/** The name in a ustar header: prefix/name for POSIX ustar (magic `ustar\0`), the name field alone otherwise (GNU, v7). */
function ustarName(header: Buffer): string {
  const name = text(header, 0, 100);
  const posix = header.subarray(257, 263).toString('latin1') === 'ustar\0';
  const prefix = posix ? text(header, 345, 500) : '';
  return prefix ? `${prefix}/${name}` : name;
}

/** A NUL-terminated text field. */
function text(header: Buffer, start: number, end: number): string {
  return cString(header.subarray(start, end));
}

function cString(bytes: Buffer): string {
  const nul = bytes.indexOf(0);
  return bytes.subarray(0, nul < 0 ? bytes.length : nul).toString('utf8');
}

/** A numeric field: octal digits (spaces and NULs around them), or GNU's base-256 with the high bit set; else a TarballError. */
function numberField(header: Buffer, start: number, end: number, at: number, what: string): number {
  const field = header.subarray(start, end);
  if (field[0] === 0x80) {
    let value = 0;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    if (value <= Number.MAX_SAFE_INTEGER) return value;
  } else {
    const digits = field.toString('latin1').replace(/^[ \0]+|[ \0]+$/g, '');
    if (/^[0-7]{0,12}$/.test(digits)) return digits ? parseInt(digits, 8) : 0;
  }
  throw new TarballError(`the header at byte ${at} has no valid ${what} field: not a tar kubeha can read`);
}

/** Refuses a header whose checksum is wrong (GNU tar accepts the unsigned or the signed sum of its bytes). */
function checkHeader(header: Buffer, at: number): void {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < TAR_BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : header[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  const stored = numberField(header, 148, 156, at, 'checksum');
  if (stored !== unsigned && stored !== signed) throw new TarballError(`the header at byte ${at} has a wrong checksum: the tarball is damaged`);
}

/** The keywords of a PAX extended header this reader applies (path, linkpath, size); a malformed record is a TarballError. */
function paxRecords(body: Buffer, at: number): Overrides {
  const out: Overrides = {};
  for (let i = 0; i < body.length && body[i] !== 0; ) {
    const space = body.indexOf(0x20, i);
    const length = Number(body.subarray(i, space).toString('latin1'));
    if (space < 0 || !Number.isSafeInteger(length) || length <= space - i + 1 || i + length > body.length || body[i + length - 1] !== 0x0a)
      throw new TarballError(`a PAX header before byte ${at} is malformed`);
    const record = body.subarray(space + 1, i + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals < 0) throw new TarballError(`a PAX header before byte ${at} is malformed`);
    const [key, value] = [record.slice(0, equals), record.slice(equals + 1)];
    if (key === 'path' || key === 'linkpath') out[key] = value;
    if (key === 'size') out.size = sizeValue(value, at);
    i += length;
  }
  return out;
}

function sizeValue(value: string, at: number): number {
  if (!/^[0-9]{1,15}$/.test(value)) throw new TarballError(`a PAX header before byte ${at} gives a size that is no number`);
  return Number(value);
}
