/** Durable writes and whole-folder swaps: the CLI's only ways of changing files. */
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { SecretsError } from '../pki/errors.js';
import { dirname } from 'node:path';

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
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

/** Replaces `dir` with `fresh` by two renames; the old folder is removed afterwards. */
export function swapIn(fresh: string, dir: string): void {
  const old = `${dir}.kubeha-old`;
  if (existsSync(dir)) {
    rmSync(old, { recursive: true, force: true });
    renameSync(dir, old);
    renameSync(fresh, dir);
    rmSync(old, { recursive: true, force: true });
  } else {
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(fresh, dir);
  }
}

/**
 * Takes `<secrets>.lock` for a command that writes the secrets folder, so two runs cannot interleave their swaps.
 * Returns the release function; throws SecretsError when another run holds the lock.
 */
export function lockSecrets(secretsDir: string): () => void {
  const lock = `${secretsDir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  let fd: number;
  try {
    fd = openSync(lock, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    let holder = '';
    try {
      holder = readFileSync(lock, 'utf8').trim();
    } catch {
      // unreadable: report without the pid
    }
    throw new SecretsError([`${lock} exists: another gen${holder ? ` (pid ${holder})` : ''} is writing ${secretsDir}; if none is running (it was killed), delete ${lock}`]);
  }
  writeFileSync(fd, `${process.pid}\n`);
  closeSync(fd);
  return () => rmSync(lock, { force: true });
}
