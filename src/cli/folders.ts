/** The --out and --secrets folders: where they really are (links followed), and that they are two separate folders. */
import { mkdirSync, lstatSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { FolderError } from './folder-error.js';
import { entryKind } from './hostile-files.js';

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
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return path;
  }
  if (!st.isSymbolicLink()) return refuseNonFolder(path, st, role);
  try {
    const real = realpathSync(path);
    return refuseNonFolder(real, statSync(real), role, path);
  } catch (error) {
    if (error instanceof FolderError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'which does not exist (not mounted?)' : `which cannot be followed (${code})`;
    throw new FolderError([`${path} is a link to ${readlinkSync(path)}, ${why}; ${DANGLING_ADVICE[role]}`], role);
  }
}

/** What kubeha keeps in each folder, for messages. */
const HOLDS: Record<FolderRole, string> = { secrets: 'the CAs, keys and tokens', output: 'the tarballs' };

/** `path` when `st` (of `path`) is a folder; else a FolderError naming what it is, before anything touches it. */
function refuseNonFolder(path: string, st: Stats, role: FolderRole, given = path): string {
  if (st.isDirectory()) return path;
  const what = given === path ? entryKind(st, path) : `a link to ${path}, which is ${entryKind(st, path)}`;
  throw new FolderError([`${given} is ${what}, not a folder: give the folder that holds (or will hold) ${HOLDS[role]}`], role);
}

/** Normalises a folder argument (`out/` is `out`); null when it names no folder kubeha can replace as a whole. */
export function normaliseFolder(path: string): string | null {
  if (path === '') return null;
  const normal = normalize(path).replace(/[\\/]+$/, '');
  if (normal === '' || normal === '.' || /^(\.\.[\\/])*\.\.$/.test(normal)) return null;
  return normal;
}

/**
 * The names kubeha gives things beside a folder `X`: `X.kubeha-new` (the next version, staged), `X.kubeha-old` (the
 * previous one, deleted after the swap) and `X.lock`; a stale lock is moved to `X.lock.stale-PID` before it is deleted.
 */
export const BESIDE = { fresh: '.kubeha-new', old: '.kubeha-old', lock: '.lock' } as const;
const STALE_LOCK = `${BESIDE.lock}.stale-`;

/** What each name beside a folder is, for messages. */
const BESIDE_ROLE: Record<string, string> = {
  [BESIDE.fresh]: 'where kubeha stages its next version (and deletes what is there)',
  [BESIDE.old]: 'where kubeha moves its previous version (and deletes it)',
  [BESIDE.lock]: 'its lock file',
  [STALE_LOCK]: 'where kubeha moves a stale lock (and deletes it)',
};

/** The path of a name kubeha gives a thing beside `dir`. */
export function besidePath(dir: string, which: keyof typeof BESIDE): string {
  return dir + BESIDE[which];
}

/** The path a stale lock of `dir` is moved to by this process before it is deleted. */
export function staleLockPath(dir: string): string {
  return `${dir}${STALE_LOCK}${process.pid}`;
}

/**
 * A path as the system sees it: absolute, normalised, and every link in it followed as far as the path exists (a
 * missing tail is appended to the real path of the part that exists).
 */
export function canonicalPath(path: string): string {
  const rest: string[] = [];
  for (let at = resolve(path); ; at = dirname(at)) {
    try {
      return join(realpathSync(at), ...rest.reverse());
    } catch {
      if (dirname(at) === at) return resolve(path);
      rest.push(basename(at));
    }
  }
}

/** The name (`at`) and its kind (a key of BESIDE_ROLE) when `path`, or a folder above it, is a name kubeha gives a thing beside `dir`. */
function besideName(path: string, dir: string): { at: string; kind: string } | null {
  for (let at = path; dirname(at) !== at; at = dirname(at)) {
    if (dirname(at) !== dirname(dir) || !basename(at).startsWith(basename(dir))) continue;
    const suffix = basename(at).slice(basename(dir).length);
    if (suffix === BESIDE.fresh || suffix === BESIDE.old || suffix === BESIDE.lock) return { at, kind: suffix };
    if (suffix.startsWith(STALE_LOCK)) return { at, kind: STALE_LOCK };
  }
  return null;
}

/**
 * Why two folders given as `--out` and `--secrets` cannot be used together, or null: one is the other, one holds the
 * other, or one is (or lies inside) a name kubeha gives a thing beside the other, which a gen would delete or fill.
 * Compared after following links.
 */
export function folderClash(out: GivenFolder, secrets: GivenFolder): string | null {
  const a = canonicalPath(out.path);
  const b = canonicalPath(secrets.path);
  const names = { out: `--out ${out.given}`, secrets: `--secrets ${secrets.given}` };
  const linked = a !== resolve(out.path) || b !== resolve(secrets.path) ? ' (links followed)' : '';
  if (a === b) return `${names.out} and ${names.secrets} are one folder${linked}: give two separate folders`;
  if (inside(a, b) || inside(b, a)) {
    const [inner, outer] = inside(a, b) ? [names.out, names.secrets] : [names.secrets, names.out];
    return `${inner} lies inside ${outer}${linked}: give two separate folders, neither inside the other`;
  }
  for (const [x, y, xName, yName] of [
    [a, b, names.out, names.secrets],
    [b, a, names.secrets, names.out],
  ] as const) {
    const beside = besideName(y, x);
    if (beside)
      return `${yName} ${y === beside.at ? 'is' : 'lies inside'} ${beside.at}${linked}: ${BESIDE_ROLE[beside.kind]} beside ${xName}; give two folders whose names are not made from each other`;
  }
  return null;
}

/** A folder as given on the command line (for messages) and its normalised path. */
export interface GivenFolder {
  given: string;
  path: string;
}

/** Whether `x` is `y` or lies inside it (as absolute, normalised paths). */
export function inside(x: string, y: string): boolean {
  const rel = relative(resolve(y), resolve(x));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** Creates the folder that holds `dir` (and its lock); a file in the way is refused with a message naming it. */
export function makeParent(dir: string, role: FolderRole): void {
  for (let at = dirname(resolve(dir)); ; at = dirname(at)) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(at);
    } catch {
      if (isLink(at))
        throw new FolderError([`${dir}: ${at} is a link to ${readlinkSync(at)}, which does not exist (not mounted?); ${DANGLING_ADVICE[role]}`], role);
      if (dirname(at) === at) break;
      continue;
    }
    if (!st.isDirectory()) throw new FolderError([`${dir}: cannot be created: ${at} is not a folder (ENOTDIR)`], role);
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
