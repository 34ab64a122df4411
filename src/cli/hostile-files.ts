/**
 * Reading files kubeha did not necessarily write (the previous output, lock files) as hostile input: never through a
 * link, never from a pipe or a device, never more than a cap; every failure in words.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { visibleName } from '../common/visible.js';

/** Words for the errno codes a file operation meets, for messages (the code follows in parentheses). */
const ERRNO_WORDS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted (an immutable file or folder?)',
  EBUSY: 'it is busy (a mount point?)',
  EXDEV: 'it is on another file system (a mount point?)',
  EIO: 'an input/output error (a failing disk?)',
  ENOENT: 'it does not exist',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  ELOOP: 'it is a link (or a loop of links)',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'the name is too long',
  ENOTEMPTY: 'the folder is not empty',
  EEXIST: 'it exists already',
  ETXTBSY: 'the file is busy',
  EAGAIN: 'it would block (a pipe?)',
};

/** An error from the file system, in words: `no space left on the device (ENOSPC)`. */
export function errnoWords(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return (error as Error).message ?? String(error);
  return ERRNO_WORDS[code] ? `${ERRNO_WORDS[code]} (${code})` : `${(error as Error).message.split(',')[0]}`;
}

/** Whether an error is one the file system reports (an errno code), not a bug. */
export function isErrno(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code);
}

/** What an entry is, in words: `a folder`, `a link to /dev/zero`, `a named pipe`... */
export function entryKind(st: Stats, path: string): string {
  if (st.isFile()) return 'a file';
  if (st.isDirectory()) return 'a folder';
  if (st.isSymbolicLink()) {
    let target = '?';
    try {
      target = readlinkSync(path);
    } catch {
      /* kept as ? */
    }
    return `a link to ${visibleName(target)}`;
  }
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a file';
}

/** Why a file could not be read: the reason in words, printed after the file's name. */
export class ReadRefused extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${visibleName(path)}: ${reason}`);
    this.name = 'ReadRefused';
  }
}

/**
 * The bytes of a regular file, at most `max` of them. Refused (ReadRefused) without opening it when it is a link, a
 * folder, a pipe or a device; opened without following links and without blocking (a pipe swapped in meanwhile is
 * refused too); a file over `max` bytes is refused after reading `max + 1`. Null when nothing has that name.
 */
export function readRegularFile(path: string, max: number, what = 'file'): Buffer | null {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null; // nothing of that name (a file stands where a folder would)
    throw new ReadRefused(path, `cannot be read: ${errnoWords(error)}`);
  }
  if (!st.isFile()) throw new ReadRefused(path, `${entryKind(st, path)}, not a ${what}: kubeha does not read it`);
  if (st.size > max) throw new ReadRefused(path, `${st.size} bytes, more than a ${what} of kubeha's can hold (${max})`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    throw new ReadRefused(path, `cannot be read: ${errnoWords(error)}`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new ReadRefused(path, `was replaced by something that is not a ${what} while kubeha read it`);
    return readAtMost(fd, path, max, what);
  } finally {
    closeSync(fd);
  }
}

/** Reads to the end, at most max + 1 bytes (in chunks sized from fstat: a file may grow meanwhile); refuses more than max. */
function readAtMost(fd: number, path: string, max: number, what: string): Buffer {
  const chunks: Buffer[] = [];
  let length = 0;
  let chunk = Buffer.allocUnsafe(Math.min(max + 1, fstatSync(fd).size + 1));
  let filled = 0;
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, chunk, filled, chunk.length - filled, null);
    } catch (error) {
      throw new ReadRefused(path, `cannot be read: ${errnoWords(error)}`);
    }
    filled += n;
    if (n === 0 || length + filled > max) break;
    if (filled === chunk.length) {
      chunks.push(chunk);
      length += filled;
      chunk = Buffer.allocUnsafe(Math.min(max + 1 - length, 1024 * 1024));
      filled = 0;
    }
  }
  chunks.push(chunk.subarray(0, filled));
  length += filled;
  if (length > max) throw new ReadRefused(path, `more than ${max} bytes, more than a ${what} of kubeha's can hold`);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
}
