/** ustar header blocks and PAX path records, laid out field by field as tar-stream (archiver's engine) writes them. */

/** A tar block: headers and padded data come in these. */
export const TAR_BLOCK = 512;
/** The end of a tar: two zero blocks. */
export const TAR_END = 2 * TAR_BLOCK;
/** The name tar-stream gives the headers around a PAX record. */
export const PAX_HEADER_NAME = 'PaxHeader';

/** What a header says: the name (with a trailing slash for folders), permission bits, size, mtime in seconds, type. */
export interface Header {
  name: string;
  mode: number;
  size: number;
  mtime: number;
  type: 'file' | 'directory' | 'pax-header';
}

const TYPE_FLAGS: Record<Header['type'], number> = { file: 0x30, directory: 0x35, 'pax-header': 0x78 };
const NAME_MAX = 100;
const PREFIX_MAX = 155;
/** uid, gid and device numbers: 0, as six octal digits and a space. */
const ZERO_ID = '000000 ';
const USTAR_MAGIC = 'ustar\u000000';
/** Field offsets of the ustar header. */
const AT = { mode: 100, uid: 108, gid: 116, size: 124, mtime: 136, checksum: 148, type: 156, magic: 257, devmajor: 329, devminor: 337, prefix: 345 };

/** Where a header's name goes: ustar's name and prefix fields, or null when a PAX record must carry it. */
export type NameFields = { name: string; prefix: string } | null;

/** Writes one header block at `at` in `tar` (zero-filled there), with the given name fields. */
export function writeHeader(tar: Buffer, at: number, h: Header, fields: { name: string; prefix: string }): void {
  if (h.size >= 8 ** 11) throw new Error(`${h.name}: ${h.size} bytes do not fit a ustar size field`);
  tar.write(fields.name, at, 'latin1');
  tar.write(octal(h.mode & 0o7777, 6), at + AT.mode, 'latin1');
  tar.write(ZERO_ID, at + AT.uid, 'latin1');
  tar.write(ZERO_ID, at + AT.gid, 'latin1');
  tar.write(octal(h.size, 11), at + AT.size, 'latin1');
  tar.write(octal(h.mtime, 11), at + AT.mtime, 'latin1');
  tar[at + AT.type] = TYPE_FLAGS[h.type];
  tar.write(USTAR_MAGIC, at + AT.magic, 'latin1');
  tar.write(ZERO_ID, at + AT.devmajor, 'latin1');
  tar.write(ZERO_ID, at + AT.devminor, 'latin1');
  if (fields.prefix) tar.write(fields.prefix, at + AT.prefix, 'latin1');
  tar.write(octal(checksum(tar, at), 6), at + AT.checksum, 'latin1');
}

/** A PAX extended header body holding the path (`<length> path=<name>\n`). */
export function paxRecords(name: string): Buffer {
  const record = ` path=${name}\n`;
  const length = Buffer.byteLength(record);
  let digits = String(length).length;
  if (length + digits >= 10 ** digits) digits++;
  return Buffer.from(`${length + digits}${record}`, 'utf8');
}

/** Splits a name into ustar's name and prefix at slashes from the left; null for non-ASCII or unsplittable names. */
export function nameFields(full: string): NameFields {
  if ([...full].some((c) => c.charCodeAt(0) > 0x7f)) return null;
  let name = full;
  let prefix = '';
  while (name.length > NAME_MAX) {
    const slash = name.indexOf('/');
    if (slash === -1) return null;
    prefix += (prefix ? '/' : '') + name.slice(0, slash);
    name = name.slice(slash + 1);
  }
  return prefix.length > PREFIX_MAX ? null : { name, prefix };
}

/** A number as `digits` octal digits and a space; all sevens when it does not fit. */
function octal(value: number, digits: number): string {
  const text = value.toString(8);
  return (text.length > digits ? '7'.repeat(digits) : text.padStart(digits, '0')) + ' ';
}

/** The header checksum: every byte of the block at `at` summed, the checksum field counted as spaces. */
function checksum(tar: Buffer, at: number): number {
  let sum = 8 * 0x20;
  for (let i = at; i < at + AT.checksum; i++) sum += tar[i]!;
  for (let i = at + AT.type; i < at + TAR_BLOCK; i++) sum += tar[i]!;
  return sum;
}
