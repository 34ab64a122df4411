/** Durable writes and whole-folder swaps: the CLI's only ways of changing files. */
import { chmodSync, closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { FolderError } from './folder-error.js';
import { dirname, join } from 'node:path';
import { BESIDE, besidePath, type FolderRole } from './folders.js';
import { entryKind, errnoWords, isErrno } from './hostile-files.js';

/** A folder written beside its target, waiting to be swapped in (commit) or thrown away (abort). */
export interface Staged {
  commit: () => void;
  abort: () => void;
}

/** Writes a file with a mode (set explicitly: the umask does not apply). */
function writeWithMode(path: string, data: string | Buffer, mode: number): void {
  writeFileSync(path, data, { mode });
  chmodSync(path, mode);
}

/** Writes a file with a mode and flushes it to disk (secrets: they cannot be made again). */
export function writeDurably(path: string, data: string | Buffer, mode: number): void {
  writeWithMode(path, data, mode);
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces `dir` with `fresh` by two renames; the old folder is removed afterwards. When the second rename fails the
 * old folder is put back, so a failure leaves `dir` as it was; an old copy that cannot be removed is left to the next
 * run (recoverInterruptedSwap removes it, saying so).
 */
export function swapIn(fresh: string, dir: string): void {
  const old = besidePath(dir, 'old');
  if (!existsSync(dir)) {
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(fresh, dir);
    return;
  }
  rmSync(old, { recursive: true, force: true });
  renameSync(dir, old);
  try {
    renameSync(fresh, dir);
  } catch (error) {
    renameSync(old, dir);
    throw error;
  }
  try {
    rmSync(old, { recursive: true, force: true });
  } catch {
    /* swapped in; the old copy goes with the next run */
  }
}

/** A folder could not be written or swapped in; says whether the other folder was changed before (`nothingChanged`). */
export class WriteError extends Error {
  constructor(
    readonly label: FolderRole,
    message: string,
    readonly nothingChanged: boolean,
  ) {
    super(message);
    this.name = 'WriteError';
  }
}

/**
 * The error to report for a failure while writing `dir`: the file system's in words, naming the folder and what was
 * being done (a FolderError or a bug passes through unchanged).
 */
export function writeFailure(error: unknown, dir: string, role: FolderRole, doing: string, nothingChanged = true): unknown {
  if (!isErrno(error)) return error;
  return new WriteError(role, `${dir}: cannot ${doing}: ${errnoWords(error)}${error.path ? ` (at ${error.path})` : ''}`, nothingChanged);
}

/** Whether anything (even a dangling link) has this name. */
export function entryExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Refuses a previous copy that kubeha cannot have left: kubeha moves a folder aside, so anything else under that name
 * (a link to another folder, a file) would be restored in the folder's place or mixed into it; it is neither.
 */
function refuseForeignCopy(old: string, role: FolderRole): void {
  let st: Stats;
  try {
    st = lstatSync(old);
  } catch {
    return;
  }
  if (!st.isDirectory())
    throw new FolderError([`${old} is ${entryKind(st, old)}, not a copy kubeha moved aside: kubeha neither restores nor deletes it; remove it yourself`], role);
}

/** Staging names kubeha uses beside a folder and, before paths were normalised, inside it (`--out out/`). */
const STAGES = [BESIDE.fresh, BESIDE.old];

/**
 * Finishes or rolls back a swap of `dir` that a killed run left half done, and removes staging copies it left,
 * saying what it did through `warn`. Call it holding the folder's lock.
 */
export function recoverInterruptedSwap(dir: string, role: FolderRole, warn: (text: string) => void): void {
  const old = besidePath(dir, 'old');
  const fresh = besidePath(dir, 'fresh');
  refuseForeignCopy(old, role);
  if (entryExists(old) && !entryExists(dir)) {
    renameSync(old, dir);
    warn(`restored ${dir} from ${old} (an interrupted run had moved it aside)\n`);
  } else if (entryExists(old)) {
    rmSync(old, { recursive: true, force: true });
    warn(`removed ${old}: the previous copy left by an interrupted run (${dir} was already swapped in)\n`);
  }
  if (entryExists(fresh)) {
    rmSync(fresh, { recursive: true, force: true });
    warn(`removed ${fresh}: a half-made copy left by an interrupted run\n`);
  }
  for (const inner of STAGES.map((s) => join(dir, s)).filter(entryExists)) {
    rmSync(inner, { recursive: true, force: true });
    warn(`removed ${inner}: a copy an older kubeha left inside the folder (when given with a trailing slash)\n`);
  }
}
