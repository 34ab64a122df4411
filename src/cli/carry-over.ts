/** Carries what kubeha did not write from an old folder into the one that replaces it: the same files (hard links), links and folders. */
import { chmodSync, copyFileSync, linkSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { FolderError } from './folder-error.js';
import { entryExists } from './atomic.js';
import type { FolderRole } from './folders.js';
import { entryKind } from './hostile-files.js';

/** Whether a path (relative to the folder, `/`-separated) is kubeha's: such entries are left behind, everything else is carried. */
export type IsOurs = (rel: string) => boolean;

/** Links a file into the new folder (the very same file, no copy); copies it when the file system refuses a link. */
function carryFile(src: string, dst: string): void {
  try {
    linkSync(src, dst);
  } catch {
    copyFileSync(src, dst);
  }
}

/** Where the old folder was walked from, what it holds (for messages) and which entries are kubeha's. */
interface Walk {
  root: string;
  role: FolderRole;
  isOurs: IsOurs;
}

function carryEntries(from: string, to: string, rel: string, walk: Walk): void {
  for (const name of readdirSync(from)) {
    const path = rel ? `${rel}/${name}` : name;
    if (walk.isOurs(path)) continue;
    const src = join(from, name);
    const dst = join(to, name);
    const st = lstatSync(src);
    if (entryExists(dst) && !(st.isDirectory() && lstatSync(dst).isDirectory())) refuseInTheWay(src, st, dst, walk);
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
    else if (st.isDirectory()) {
      mkdirSync(dst, { recursive: true });
      chmodSync(dst, st.mode & 0o7777);
      carryEntries(src, dst, path, walk);
    } else if (st.isFile()) carryFile(src, dst);
    else
      throw new FolderError(
        [`${src}: ${entryKind(st, src)}; kubeha keeps what it did not write in ${walk.root} only when it is a file, folder or link: move it elsewhere`],
        walk.role,
      );
  }
}

/** Refuses an old entry kubeha must replace by something else (its own file or folder): it is never deleted. */
function refuseInTheWay(src: string, st: Stats, dst: string, walk: Walk): never {
  const needs = lstatSync(dst).isDirectory() ? 'a folder of its own' : 'a file';
  throw new FolderError(
    [`${src} is ${entryKind(st, src)} where kubeha writes ${needs}; kubeha does not delete it or write through it: move it out of ${walk.root}`],
    walk.role,
  );
}

/**
 * Carries every entry of `from` that is not kubeha's into `to` (which exists), keeping files' identity (hard links),
 * links as links and folders' modes; `to` takes the mode of `from`. An entry in the place of one kubeha wrote in `to`
 * (a folder named like a tarball, a link named like a folder of kubeha's) is refused, never replaced.
 */
export function carryOver(from: string, to: string, isOurs: IsOurs, role: FolderRole = 'secrets'): void {
  chmodSync(to, lstatSync(from).mode & 0o7777);
  carryEntries(from, to, '', { root: from, role, isOurs });
}
