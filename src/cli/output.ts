/** Writes the output folder atomically: tarballs and SHA256SUMS built in a sibling folder, then swapped in. */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, copyFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeDurably } from './secrets-store.js';

/** A file to write into the output folder. */
export interface OutputFile {
  name: string;
  bytes: Buffer;
  mode: number;
}

const OURS = /(\.tar\.gz|^SHA256SUMS)$/;

/** Replaces the output folder's bundles with these files; other files there (such as .gitkeep) are kept. */
export function writeOutput(dir: string, files: readonly OutputFile[]): void {
  const fresh = `${dir}.kubeha-new`;
  const old = `${dir}.kubeha-old`;
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(fresh, { recursive: true });
  for (const f of files) writeDurably(join(fresh, f.name), f.bytes, f.mode);
  if (existsSync(dir)) {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (!OURS.test(name) && statSync(path).isFile()) copyFileSync(path, join(fresh, name));
    }
    rmSync(old, { recursive: true, force: true });
    renameSync(dir, old);
    renameSync(fresh, dir);
    rmSync(old, { recursive: true, force: true });
  } else {
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(fresh, dir);
  }
}
