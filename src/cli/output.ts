/** Writes the output folder atomically: tarballs and SHA256SUMS staged in a sibling folder, then swapped in. */
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { swapIn, type Staged } from './atomic.js';

/** A file to write into the output folder. */
export interface OutputFile {
  name: string;
  bytes: Buffer;
  mode: number;
}

const OURS = /(\.tar\.gz|^SHA256SUMS)$/;

/** An output folder being written beside the old one: files arrive one by one, then finish() stages it. */
export interface OutputStage {
  write: (file: OutputFile) => Promise<void>;
  /** Carries over unrelated files of the old folder (such as .gitkeep); returns the staged folder. */
  finish: () => Staged;
  abort: () => void;
}

/** Starts writing a new output folder `<dir>.kubeha-new`. */
export function openOutputStage(dir: string): OutputStage {
  const fresh = `${dir}.kubeha-new`;
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(fresh, { recursive: true });
  const abort = () => rmSync(fresh, { recursive: true, force: true });
  return {
    // No fsync: the output can always be generated again, and gen check tells when it must be. The mode is
    // set at creation; a umask can only remove bits, so a tarball is never more open than 0600.
    // Written synchronously: a small file costs a few system calls, less than a round trip through the thread pool.
    write: async (f) => writeFileSync(join(fresh, f.name), f.bytes, { mode: f.mode }),
    finish: () => {
      try {
        if (existsSync(dir)) {
          for (const name of readdirSync(dir)) {
            const path = join(dir, name);
            if (!OURS.test(name) && statSync(path).isFile()) copyFileSync(path, join(fresh, name));
          }
        }
      } catch (error) {
        abort();
        throw error;
      }
      return { commit: () => swapIn(fresh, dir), abort };
    },
    abort,
  };
}
