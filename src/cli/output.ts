/** Writes the output folder atomically: tarballs, the Ansible rollout and SHA256SUMS staged in a sibling folder, then swapped in. */
import { existsSync, lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { swapIn, writeFailure, type Staged } from './atomic.js';
import { carryOver } from './carry-over.js';
import { besidePath } from './folders.js';
import { bundleHost, isKubehaBundle, readPreviousBundle } from './previous-output.js';

/** A file to write into the output folder. */
export interface OutputFile {
  name: string;
  bytes: Buffer;
  mode: number;
}

/**
 * Whether an entry of the old output folder (`rel`, relative) is kubeha's, so that the new folder replaces or drops it:
 * a name kubeha writes again (unless a folder is in its place: that is never deleted, gen stops instead), or the
 * bundle of a removed host: a regular file `<host>.tar.gz` that is a kubeha bundle for that host, read bounded. Nothing
 * is judged from SHA256SUMS (a damaged or foreign one could name anything); everything else is carried over.
 */
function isOurs(dir: string, written: ReadonlySet<string>, rel: string): boolean {
  if (written.has(rel)) return !isFolder(join(dir, rel));
  const host = bundleHost(rel);
  return host !== null && isKubehaBundle(readPreviousBundle(dir, host));
}

function isFolder(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** An output folder being written beside the old one: files arrive one by one, then finish() stages it. */
export interface OutputStage {
  write: (file: OutputFile) => Promise<void>;
  /** Carries over what is not kubeha's in the old folder (notes, .git, tarballs that are no bundle of kubeha's); returns the staged folder. */
  finish: () => Staged;
  abort: () => void;
}

/** Starts writing a new output folder `<dir>.kubeha-new`. */
export function openOutputStage(dir: string): OutputStage {
  const fresh = besidePath(dir, 'fresh');
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(fresh, { recursive: true });
  const abort = () => rmSync(fresh, { recursive: true, force: true });
  const written = new Set<string>();
  return {
    // No fsync: the output can always be generated again, and gen check tells when it must be. The mode is
    // set at creation; a umask can only remove bits, so a tarball is never more open than 0600.
    // Written synchronously: a small file costs a few system calls, less than a round trip through the thread pool.
    write: async (f) => {
      written.add(f.name);
      if (f.name.includes('/')) mkdirSync(dirname(join(fresh, f.name)), { recursive: true });
      writeFileSync(join(fresh, f.name), f.bytes, { mode: f.mode });
    },
    finish: () => {
      try {
        if (existsSync(dir)) carryOver(dir, fresh, (rel) => isOurs(dir, written, rel), 'output');
      } catch (error) {
        abort();
        throw error;
      }
      return { commit: () => swapIn(fresh, dir), abort };
    },
    abort,
  };
}

/** A new output folder, written and staged beside the old one, and what writing it returned. */
export interface StagedOutput<T> {
  staged: Staged;
  result: T;
}

/** Writes a new output folder for `dir` through `write` and stages it; on failure the half-written folder is removed. */
export async function stageOutput<T>(dir: string, write: (sink: OutputStage['write']) => Promise<T>): Promise<StagedOutput<T>> {
  const fresh = besidePath(dir, 'fresh');
  let stage: OutputStage;
  try {
    stage = openOutputStage(dir);
  } catch (error) {
    throw writeFailure(error, dir, 'output', `make ${fresh} for the new output`);
  }
  let result: T;
  try {
    result = await write(stage.write);
  } catch (error) {
    stage.abort();
    throw writeFailure(error, dir, 'output', `write the new output in ${fresh}`);
  }
  try {
    return { staged: stage.finish(), result };
  } catch (error) {
    throw writeFailure(error, dir, 'output', `carry what is not kubeha's into ${fresh}`);
  }
}
