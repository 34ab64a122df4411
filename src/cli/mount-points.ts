/** Mount points in the way of a folder swap: a folder that is, or holds, one cannot be replaced by a rename. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FolderError } from './folder-error.js';
import { canonicalPath, inside, type FolderRole } from './folders.js';

/** The mount points of this process (/proc/self/mountinfo, fifth field, octal escapes undone); null when unreadable. */
function mountPoints(): string[] | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return null;
  }
  return text
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, code: string) => String.fromCharCode(parseInt(code, 8))));
}

/**
 * A mount point at `dir` or below it (a tmpfs, an encrypted volume, a bind mount), or null: such a folder cannot be
 * renamed (EBUSY), and copying it beside itself would put key copies outside the volume. Found in the mount table;
 * without one, by comparing the device of `dir` with its parent's.
 */
export function mountPointIn(dir: string): string | null {
  if (!existsSync(dir)) return null;
  const real = canonicalPath(dir);
  const table = mountPoints();
  if (table) return table.find((m) => m !== '/' && inside(m, real)) ?? null;
  return statSync(real).dev !== statSync(dirname(real)).dev ? real : null;
}

/** Refuses (before anything is written) to replace a folder that is, or holds, a mount point. */
export function refuseMountPoint(dir: string, role: FolderRole): void {
  const mount = mountPointIn(dir);
  if (mount === null) return;
  const where = mount === canonicalPath(dir) ? `${dir} is a mount point` : `${dir} holds a mount point (${mount})`;
  throw new FolderError(
    [
      `${where}: kubeha replaces the ${role === 'secrets' ? 'secrets' : 'output'} folder as a whole by renaming a copy into its place, ` +
        `which a mount point does not allow (and the copy would lie outside the volume); give a folder inside the volume instead, ` +
        `such as --${role === 'secrets' ? 'secrets' : 'out'} ${join(dir, role === 'secrets' ? 'secrets' : 'out')}${role === 'secrets' ? ' (move the files there)' : ''}`,
    ],
    role,
  );
}
