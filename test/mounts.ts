/** Small real file systems for tests: a tmpfs of a given size mounted on a folder, unmounted afterwards whatever happens. */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

/** Mounts a tmpfs of `size` (mount's syntax: 256k, 2m) on `dir` (created), runs `fn`, and unmounts it (lazily if busy). */
export async function withTmpfs<T>(dir: string, size: string, fn: () => Promise<T> | T, readOnly = false): Promise<T> {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755${readOnly ? ',ro' : ''}`, 'kubeha-test', dir]);
  try {
    return await fn();
  } finally {
    try {
      execFileSync('umount', [dir]);
    } catch {
      execFileSync('umount', ['-l', dir]);
    }
  }
}
