/** `<folder>.lock`: one writer per folder at a time, refused at once (never waited for); a lock left by a dead process is taken over. */
import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { SecretsError } from '../pki/errors.js';
import { recoverInterruptedSwap } from './atomic.js';
import { makeParent, type FolderRole } from './folders.js';

/** Who holds a lock, as written in the lock file: `PID HOST` (older kubeha wrote the pid only). */
interface Holder {
  text: string;
  pid: number | null;
  host: string | null;
  /** Milliseconds since the lock was written. */
  age: number;
}

/**
 * Reads a lock's holder, or null when the lock is gone. Its age is taken from the clock here, not from the command's
 * `now`: it is compared with the lock file's mtime at the moment the lock is met, and no output holds it.
 */
function readHolder(lock: string): Holder | null {
  let text: string;
  let age: number;
  try {
    text = readFileSync(lock, 'utf8');
    age = Date.now() - statSync(lock).mtimeMs;
  } catch {
    return null;
  }
  const [pid, host] = text.trim().split(/\s+/);
  return { text, pid: /^[0-9]+$/.test(pid ?? '') ? Number(pid) : null, host: host || null, age };
}

/** A lock without a pid older than this was left by a run killed while writing it (a live one writes its pid at once). */
const EMPTY_LOCK_STALE_MS = 60_000;

/** Whether a process with this pid runs on this machine (EPERM: it runs, under another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the holder is surely gone: its pid no longer runs here (a lock from another host cannot be judged). */
function isStale(holder: Holder): boolean {
  if (holder.pid === null) return holder.age > EMPTY_LOCK_STALE_MS;
  return (holder.host === null || holder.host === hostname()) && !alive(holder.pid);
}

/**
 * Moves a stale lock aside and deletes it, unless another run replaced it meanwhile (then it is put back).
 * Returns whether the stale lock is gone.
 */
function removeStale(lock: string, stale: Holder): boolean {
  const aside = `${lock}.stale-${process.pid}`;
  try {
    renameSync(lock, aside);
  } catch {
    return false;
  }
  if (readHolder(aside)?.text === stale.text) {
    rmSync(aside, { force: true });
    return true;
  }
  try {
    linkSync(aside, lock);
  } catch {
    /* another run holds a newer lock already */
  }
  rmSync(aside, { force: true });
  return false;
}

function heldMessage(lock: string, dir: string, holder: Holder | null): string {
  const who = holder?.pid ? ` (pid ${holder.pid}${holder.host && holder.host !== hostname() ? ` on ${holder.host}` : ''})` : '';
  return `${lock} exists: another gen${who} is writing ${dir}; if none is running (it was killed), delete ${lock}`;
}

/**
 * Takes `<dir>.lock` for a command that writes `dir`; returns the release function. Refuses at once (SecretsError)
 * while another live run holds it; a lock whose pid is gone from this host is taken over, with a note through `warn`.
 */
export function lockFolder(dir: string, role: FolderRole, warn: (text: string) => void): () => void {
  const lock = `${dir}.lock`;
  makeParent(dir, role);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeFileSync(fd, `${process.pid} ${hostname()}\n`);
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(lock);
    if (attempt === 0 && holder === null) continue; // released meanwhile: try once more
    if (attempt > 0 || !holder || !isStale(holder) || !removeStale(lock, holder)) throw new SecretsError([heldMessage(lock, dir, holder)], role);
    warn(`took over ${lock}: ${holder.pid === null ? 'left empty by a gen killed while taking it' : `its gen (pid ${holder.pid}) is no longer running`}\n`);
  }
}

/**
 * Runs `work` holding the lock of every folder (taken in the order given, released in reverse), after finishing or
 * rolling back any swap of them that a killed run left half done.
 */
export async function withFolderLocks<T>(folders: { dir: string; role: FolderRole }[], warn: (text: string) => void, work: () => Promise<T>): Promise<T> {
  const releases: (() => void)[] = [];
  try {
    for (const { dir, role } of folders) {
      releases.unshift(lockFolder(dir, role, warn));
      recoverInterruptedSwap(dir, warn);
    }
    return await work();
  } finally {
    for (const release of releases) release();
  }
}
