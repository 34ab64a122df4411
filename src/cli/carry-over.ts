/** Carries what kubeha did not write from an old folder into the one that replaces it: the same files (hard links), links and folders. */
import { chmodSync, copyFileSync, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { SecretsError } from '../pki/errors.js';

/** Whether a path (relative to the folder, `/`-separated) is kubeha's: such entries are left behind, everything else is carried. */
export type IsOurs = (rel: string) => boolean;

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'named pipe';
  if (st.isSocket()) return 'socket';
  return 'device';
}

/** Links a file into the new folder (the very same file, no copy); copies it when the file system refuses a link. */
function carryFile(src: string, dst: string): void {
  try {
    linkSync(src, dst);
  } catch {
    copyFileSync(src, dst);
  }
}

function carryEntries(from: string, to: string, rel: string, isOurs: IsOurs, root: string): void {
  for (const name of readdirSync(from)) {
    const path = rel ? `${rel}/${name}` : name;
    if (isOurs(path)) continue;
    const src = join(from, name);
    const dst = join(to, name);
    const st = lstatSync(src);
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
    else if (st.isDirectory()) {
      mkdirSync(dst, { recursive: true });
      chmodSync(dst, st.mode & 0o7777);
      carryEntries(src, dst, path, isOurs, root);
    } else if (st.isFile()) carryFile(src, dst);
    else
      throw new SecretsError([
        `${src}: a ${kindOf(st)}; kubeha keeps what it did not write in ${root} only when it is a file, folder or link: move it elsewhere`,
      ]);
  }
}

/**
 * Carries every entry of `from` that is not kubeha's into `to` (which exists), keeping files' identity (hard links),
 * links as links and folders' modes; `to` takes the mode of `from`.
 */
export function carryOver(from: string, to: string, isOurs: IsOurs): void {
  chmodSync(to, lstatSync(from).mode & 0o7777);
  carryEntries(from, to, '', isOurs, from);
}
