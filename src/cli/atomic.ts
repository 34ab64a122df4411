/** Durable writes and whole-folder swaps: the CLI's only ways of changing files. */
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A folder written beside its target, waiting to be swapped in (commit) or thrown away (abort). */
export interface Staged {
  commit: () => void;
  abort: () => void;
}

/** Writes a file with a mode (set explicitly: the umask does not apply). */
export function writeWithMode(path: string, data: string | Buffer, mode: number): void {
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
