/** Writes the output folder atomically: tarballs and SHA256SUMS staged in a sibling folder, then swapped in. */
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { swapIn, writeDurably, type Staged } from './atomic.js';

/** A file to write into the output folder. */
export interface OutputFile {
  name: string;
  bytes: Buffer;
  mode: number;
}

const OURS = /(\.tar\.gz|^SHA256SUMS)$/;

/** Writes the new output folder beside the old one; other files there (such as .gitkeep) are carried over. */
export function stageOutput(dir: string, files: readonly OutputFile[]): Staged {
  const fresh = `${dir}.kubeha-new`;
  rmSync(fresh, { recursive: true, force: true });
  try {
    mkdirSync(fresh, { recursive: true });
    for (const f of files) writeDurably(join(fresh, f.name), f.bytes, f.mode);
    if (existsSync(dir)) {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (!OURS.test(name) && statSync(path).isFile()) copyFileSync(path, join(fresh, name));
      }
    }
  } catch (error) {
    rmSync(fresh, { recursive: true, force: true });
    throw error;
  }
  return { commit: () => swapIn(fresh, dir), abort: () => rmSync(fresh, { recursive: true, force: true }) };
}
