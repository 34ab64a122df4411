/** Folders of the target hosts that the inventory must not point a data folder at, and the check that uses them. */
import { posix } from 'node:path';
import { KUBEHA_DIRS } from '../common/kubeha-dirs.js';

/** System folders: refused as a data folder, and so is every folder above one (`/` holds them all). */
export const SYSTEM_DIRS: readonly string[] = [
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/media',
  '/mnt',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/usr/bin',
  '/usr/lib',
  '/usr/local',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/share',
  '/var',
  '/var/backups',
  '/var/cache',
  '/var/lib',
  '/var/log',
  '/var/mail',
  '/var/opt',
  '/var/run',
  '/var/spool',
  '/var/tmp',
];

/** Trees that hold no data of ours, with why ("/etc, which ..."): nothing inside them may be a data folder. */
export const SYSTEM_TREES: readonly { dir: string; why: string }[] = [
  ...['/bin', '/boot', '/dev', '/lib', '/lib32', '/lib64', '/proc', '/sbin', '/snap', '/sys', '/usr'].map((dir) => ({
    dir,
    why: 'holds the operating system',
  })),
  { dir: '/etc', why: 'holds configuration (kubeha writes /etc/kubernetes and /etc/etcd)' },
  ...['/run', '/var/run', '/tmp', '/var/tmp'].map((dir) => ({ dir, why: 'is emptied at boot or by cleanup timers' })),
  ...['/var/log', '/var/cache', '/var/spool'].map((dir) => ({ dir, why: 'is rotated or cleaned by other tools' })),
  // A folder the etcd user owns must sit in folders only root can change: a user owning one on the way could swap the
  // data dir for a link, and root's next run would hand the link's target to etcd.
  { dir: '/home', why: "holds the users' home folders (each user may change their own)" },
  { dir: '/root', why: "is root's home, closed to the etcd user" },
  { dir: '/media', why: 'holds removable media, mounted for the users who plug them in' },
  { dir: '/var/mail', why: "holds the users' mailboxes" },
];

/** Each folder of /var/lib is one program's state (FHS 3.0, 5.8): there, a data folder must be one of etcd's. */
export const VAR_LIB = '/var/lib';

/** Whether a folder directly in /var/lib is named for etcd (etcd, etcd-main, etcd2, ...). */
const etcdsOwn = (name: string): boolean => name.startsWith('etcd');

/** A path with `.`, `..`, repeated and trailing slashes resolved (POSIX rules; `..` above `/` stays at `/`). */
export function normalisedPath(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

const inside = (path: string, dir: string): boolean => dir === '/' || path.startsWith(dir + '/');

/**
 * Why an absolute path may not be a data folder that run.sh creates, chowns and fills (null when it may):
 * a system folder, a folder above one, a folder inside a system tree, one of kubeha's own folders (or above or inside
 * one), a folder of another program in /var/lib, or a path that is not written normalised. `example` is a good choice to suggest.
 */
export function dataDirectoryProblem(path: string, example: string): string | null {
  const normal = normalisedPath(path);
  const as = normal === path ? normal : `${path} (that is ${normal})`;
  const advice = `use a directory of its own such as ${example}`;
  if (SYSTEM_DIRS.includes(normal)) return `${as} is a system directory: ${advice}`;
  const below = SYSTEM_DIRS.find((dir) => inside(dir, normal));
  if (below) return `${as} holds system directories such as ${below}: ${advice}`;
  const tree = SYSTEM_TREES.find(({ dir }) => inside(normal, dir));
  if (tree) return `${as} lies inside ${tree.dir}, which ${tree.why}: ${advice}`;
  const own = KUBEHA_DIRS.find((dir) => normal === dir || inside(normal, dir) || inside(dir, normal));
  if (own)
    return `${as} ${normal === own ? 'is' : inside(normal, own) ? 'lies inside' : 'holds'} kubeha's own folder ${own}, which root alone may change: ${advice}`;
  const program = inside(normal, VAR_LIB) ? normal.slice(VAR_LIB.length + 1).split('/')[0]! : null;
  if (program !== null && !etcdsOwn(program))
    return `${as} ${normal === `${VAR_LIB}/${program}` ? 'is' : 'lies inside'} ${VAR_LIB}/${program}, the state of another program (each folder of ${VAR_LIB} is one program's): ${advice}`;
  return normal === path ? null : `${path} is not written plainly: write ${normal}`;
}
