/** `<folder>.lock`: one writer per folder at a time, refused at once (never waited for); a lock left by a dead process is taken over. */
import { closeSync, linkSync, lstatSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { visibleName } from '../common/visible.js';
import { FolderError } from './folder-error.js';
import { recoverInterruptedSwap } from './atomic.js';
import { besidePath, makeParent, staleLockPath, type FolderRole } from './folders.js';
import { errnoWords, readRegularFile, ReadRefused } from './hostile-files.js';
import type { Machine } from './machine.js';

/** Who holds a lock, as written in the lock file: `PID HOST` (older kubeha wrote the pid only). */
export interface Holder {
  text: string;
  pid: number | null;
  host: string | null;
  /** Milliseconds since the lock was written. */
  age: number;
}

/** What is at a lock's path: nothing, a lock kubeha wrote, or something else (with what it is, in words). */
type LockState = { gone: true } | { gone: false; holder: Holder } | { gone: false; foreign: string };

/** A lock file holds `PID HOST\n`: a few dozen bytes. */
const MAX_LOCK_BYTES = 512;
const LOCK_TEXT = /^([0-9]{1,10})(?: (\S{1,255}))?\n?$/;

/**
 * Reads what is at a lock's path, without following a link or opening a pipe. Its age is the command's `now` less the
 * lock file's mtime (a lock written after the command started is younger than nothing: never stale by age).
 */
export function readLock(lock: string, now: Date): LockState {
  let bytes: Buffer | null;
  let age: number;
  try {
    age = now.getTime() - lstatSync(lock).mtimeMs;
    bytes = readRegularFile(lock, MAX_LOCK_BYTES, 'lock file');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { gone: true };
    const reason = error instanceof ReadRefused ? error.reason : `cannot be read: ${errnoWords(error)}`;
    return { gone: false, foreign: reason.startsWith('cannot') ? `it ${reason}` : `it is ${reason}` };
  }
  if (bytes === null) return { gone: true };
  const text = bytes.toString('utf8');
  if (text === '') return { gone: false, holder: { text, pid: null, host: null, age } };
  const match = LOCK_TEXT.exec(text);
  if (!match) return { gone: false, foreign: `it holds "${visibleName(text.slice(0, 60))}", not a pid and host name as gen writes them` };
  return { gone: false, holder: { text, pid: Number(match[1]), host: match[2] ?? null, age } };
}

/** A lock without a pid older than this was left by a run killed while writing it (a live one writes its pid at once). */
const EMPTY_LOCK_STALE_MS = 60_000;

/** True when the holder is surely gone: its pid no longer runs here (a lock from another host cannot be judged). */
function isStale(holder: Holder, machine: Machine): boolean {
  if (holder.pid === null) return holder.age > EMPTY_LOCK_STALE_MS;
  return isHere(holder, machine) && !machine.alive(holder.pid);
}

const isHere = (holder: Holder, machine: Machine) => holder.host === null || holder.host === machine.self.host;

/** Who holds `<dir>.lock` when another live gen holds it now (a stale lock, a foreign file or this process's own is none). */
function otherGen(dir: string, machine: Machine): Holder | null {
  const state = readLock(besidePath(dir, 'lock'), machine.now);
  if (state.gone || !('holder' in state) || isStale(state.holder, machine)) return null;
  return state.holder.pid === machine.self.pid && isHere(state.holder, machine) ? null : state.holder;
}

/** What a folder is right now: its device and inode (a swap puts another folder in its place), or absent. */
function identity(dir: string): string {
  try {
    const st = lstatSync(dir);
    return `${st.dev}:${st.ino}`;
  } catch {
    return 'absent';
  }
}

/**
 * Runs `read`, which reads `dir` without its lock (gen plan, diff, check, certs), so that it sees the folder as a
 * gen left it, before or after, never halfway through a swap: refused while another gen holds the folder's lock, and
 * refused after reading when a gen took the lock or swapped the folder meanwhile.
 */
export function readSteady<T>(dir: string, role: FolderRole, machine: Machine, read: () => T): T {
  const who = (holder: Holder) => `a gen (pid ${holder.pid ?? '?'}${isHere(holder, machine) ? '' : ` on ${visibleName(holder.host!)}`})`;
  const before = otherGen(dir, machine);
  if (before) throw new FolderError([`${dir}: ${who(before)} is writing it right now; run this again when it has finished`], role);
  const was = identity(dir);
  const result = read();
  const after = otherGen(dir, machine);
  if (after || identity(dir) !== was)
    throw new FolderError([`${dir}: changed while it was read (${after ? `${who(after)} is writing it` : 'a gen replaced it'}); run this again`], role);
  return result;
}

/**
 * Moves a stale lock aside and deletes it, unless another run replaced it meanwhile (then it is put back).
 * Returns null when the stale lock is gone, else why it could not be removed.
 */
function removeStale(dir: string, stale: Holder, now: Date): string | null {
  const lock = besidePath(dir, 'lock');
  const aside = staleLockPath(dir);
  try {
    renameSync(lock, aside);
  } catch (error) {
    return `it is stale (${staleReason(stale)}) but cannot be moved aside: ${errnoWords(error)}`;
  }
  const moved = readLock(aside, now);
  if (!moved.gone && 'holder' in moved && moved.holder.text === stale.text) {
    rmSync(aside, { force: true });
    return null;
  }
  try {
    linkSync(aside, lock);
  } catch {
    /* another run holds a newer lock already */
  }
  rmSync(aside, { force: true });
  return 'another gen took it over while this one was removing it as stale';
}

const staleReason = (holder: Holder) =>
  holder.pid === null ? 'left empty by a gen killed while taking it' : `its gen (pid ${holder.pid}) is no longer running`;

/** Why a lock refuses this run, in words: who holds it, or what the thing at its path is. */
function heldMessage(dir: string, state: LockState, machine: Machine): string {
  const lock = besidePath(dir, 'lock');
  const advice = `if no gen is running, delete ${lock}`;
  if (state.gone) return `${lock} came and went twice: other gen runs are taking it; try again`;
  if ('foreign' in state) return `${lock} is in the way of gen's lock for ${dir}: ${state.foreign}; ${advice}`;
  const { holder } = state;
  if (holder.pid === null) return `${lock} exists but is empty: a gen is taking it right now (or was killed while taking it; it is taken over after a minute)`;
  if (!isHere(holder, machine)) return `${lock} exists: another gen (pid ${holder.pid} on ${visibleName(holder.host!)}) is writing ${dir}; ${advice}`;
  const program = machine.program(holder.pid);
  if (program !== null && !/^(node|nodejs|gen)$/.test(program))
    return `${lock} names pid ${holder.pid}, which now runs ${visibleName(program)}, not gen (the pid was reused after a gen was killed); ${advice}`;
  return `${lock} exists: another gen (pid ${holder.pid}) is writing ${dir}; if none is running (it was killed), delete ${lock}`;
}

/** Creates the lock file; false when something is at its path already. */
function create(dir: string, role: FolderRole, self: Machine['self']): boolean {
  const lock = besidePath(dir, 'lock');
  let fd: number;
  try {
    fd = openSync(lock, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new FolderError([`${lock}: cannot create gen's lock for ${dir}: ${errnoWords(error)}`], role);
  }
  try {
    writeFileSync(fd, `${self.pid} ${self.host}\n`);
  } catch (error) {
    rmSync(lock, { force: true });
    throw new FolderError([`${lock}: cannot write gen's lock for ${dir}: ${errnoWords(error)}`], role);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Takes `<dir>.lock` for a command that writes `dir`; returns the release function. Refuses at once (FolderError,
 * saying why) while another live run holds it or something else is at its path; a lock whose pid is gone from this
 * host is taken over, with a note through `warn`.
 */
export function lockFolder(dir: string, role: FolderRole, machine: Machine, warn: (text: string) => void): () => void {
  const lock = besidePath(dir, 'lock');
  makeParent(dir, role);
  for (let attempt = 0; ; attempt++) {
    if (create(dir, role, machine.self)) return () => rmSync(lock, { force: true });
    const state = readLock(lock, machine.now);
    if (attempt === 0 && state.gone) continue; // released meanwhile: try once more
    if (attempt > 0 || !('holder' in state) || !isStale(state.holder, machine)) throw new FolderError([heldMessage(dir, state, machine)], role);
    const failed = removeStale(dir, state.holder, machine.now);
    if (failed) throw new FolderError([`${lock}: ${failed}`], role);
    warn(`took over ${lock}: ${staleReason(state.holder)}\n`);
  }
}

/**
 * Runs `work` holding the lock of every folder (taken in the order given, released in reverse), after finishing or
 * rolling back any swap of them that a killed run left half done.
 */
export async function withFolderLocks<T>(
  folders: { dir: string; role: FolderRole }[],
  machine: Machine,
  warn: (text: string) => void,
  work: () => Promise<T>,
): Promise<T> {
  const releases: (() => void)[] = [];
  try {
    for (const { dir, role } of folders) {
      releases.unshift(lockFolder(dir, role, machine, warn));
      recoverInterruptedSwap(dir, role, warn);
    }
    return await work();
  } finally {
    for (const release of releases) release();
  }
}
