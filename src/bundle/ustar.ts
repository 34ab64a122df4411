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
/** Field offsets of the ustar header. */
const AT = { mode: 100, uid: 108, gid: 116, size: 124, mtime: 136, checksum: 148, type: 156, magic: 257, devmajor: 329, devminor: 337, prefix: 345 };

/** One header block, or null when the name fits no ustar header (then a PAX record must carry it). */
export function tarHeader(h: Header): Buffer | null {
  if (h.size >= 8 ** 11) throw new Error(`${h.name}: ${h.size} bytes do not fit a ustar size field`);
  const split = splitName(h.name);
  if (!split) return null;
  const block = Buffer.alloc(TAR_BLOCK);
  block.write(split.name, 0, 'latin1');
  block.write(octal(h.mode & 0o7777, 6), AT.mode, 'latin1');
  block.write(octal(0, 6), AT.uid, 'latin1');
  block.write(octal(0, 6), AT.gid, 'latin1');
  block.write(octal(h.size, 11), AT.size, 'latin1');
  block.write(octal(h.mtime, 11), AT.mtime, 'latin1');
  block[AT.type] = TYPE_FLAGS[h.type];
  block.write('ustar\u000000', AT.magic, 'latin1');
  block.write(octal(0, 6), AT.devmajor, 'latin1');
  block.write(octal(0, 6), AT.devminor, 'latin1');
  if (split.prefix) block.write(split.prefix, AT.prefix, 'latin1');
  block.write(octal(checksum(block), 6), AT.checksum, 'latin1');
  return block;
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
function splitName(full: string): { name: string; prefix: string } | null {
  if (!/^[\x00-\x7f]*$/.test(full)) return null;
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

/** The header checksum: every byte summed, the checksum field counted as spaces. */
function checksum(block: Buffer): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < AT.checksum; i++) sum += block[i]!;
  for (let i = AT.type; i < TAR_BLOCK; i++) sum += block[i]!;
  return sum;
}
