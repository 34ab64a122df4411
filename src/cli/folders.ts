/** The --out and --secrets folders: where they really are (links followed), and that they are two separate folders. */
import { mkdirSync, lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, normalize, relative, resolve, sep } from 'node:path';
import { SecretsError } from '../pki/errors.js';

/** What a folder holds, for messages. */
export type FolderRole = 'secrets' | 'output';

const DANGLING_ADVICE: Record<FolderRole, string> = {
  secrets: 'kubeha will not start a new CA there',
  output: 'create the target or remove the link',
};

/**
 * The real path of a folder given on the command line: a link is followed, so kubeha writes through it and the
 * link stays; a dangling link is refused. A path that is no link is returned as given.
 */
export function realFolder(path: string, role: FolderRole): string {
  try {
    if (!lstatSync(path).isSymbolicLink()) return path;
  } catch {
    return path;
  }
  try {
    return realpathSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'which does not exist (not mounted?)' : `which cannot be followed (${code})`;
    throw new SecretsError([`${path} is a link to ${readlinkSync(path)}, ${why}; ${DANGLING_ADVICE[role]}`], role);
  }
}

/** Normalises a folder argument (`out/` is `out`); null when it names no folder kubeha can replace as a whole. */
export function normaliseFolder(path: string): string | null {
  if (path === '') return null;
  const normal = normalize(path).replace(/[\\/]+$/, '');
  if (normal === '' || normal === '.' || /^(\.\.[\\/])*\.\.$/.test(normal)) return null;
  return normal;
}

/** Whether two folders are the same or one lies inside the other (compared as absolute, normalised paths). */
export function overlap(a: string, b: string): boolean {
  const inside = (x: string, y: string) => {
    const rel = relative(resolve(y), resolve(x));
    return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
  };
  return inside(a, b) || inside(b, a);
}

/** Creates the folder that holds `dir` (and its lock); a file in the way is refused with a message naming it. */
export function makeParent(dir: string, role: FolderRole): void {
  for (let at = dirname(resolve(dir)); ; at = dirname(at)) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(at);
    } catch {
      if (isLink(at))
        throw new SecretsError([`${dir}: ${at} is a link to ${readlinkSync(at)}, which does not exist (not mounted?); ${DANGLING_ADVICE[role]}`], role);
      if (dirname(at) === at) break;
      continue;
    }
    if (!st.isDirectory()) throw new SecretsError([`${dir}: cannot be created: ${at} is not a folder (ENOTDIR)`], role);
    break;
  }
  mkdirSync(dirname(dir), { recursive: true });
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
