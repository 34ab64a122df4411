/** Where the bench runs: a folder on the working disk, and a tmpfs it mounts (root only) and unmounts afterwards. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A folder to run in, its file system's name, and how to remove it. */
export interface Place {
  label: string;
  dir: string;
  release: () => void;
}

/** statfs f_type magic numbers of the file systems the bench names (others print in hex). */
const FS_TYPES = new Map<number, string>([
  [0x01021994, 'tmpfs'],
  [0xef53, 'ext4'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x794c7630, 'overlay'],
]);

/** The file system type of a folder, by name where known. */
export function fsType(dir: string): string {
  const type = statfsSync(dir).type;
  return FS_TYPES.get(type) ?? `0x${type.toString(16)}`;
}

/** A fresh folder under `parent` (the working folder by default), ignored by git (.kubeha-*). */
export function diskPlace(parent: string): Place {
  const dir = mkdtempSync(join(parent, '.kubeha-bench-'));
  return { label: `disk (${fsType(dir)})`, dir, release: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A tmpfs mounted on a fresh folder, or the reason it cannot be mounted (mounting needs root). */
export function tmpfsPlace(): Place | string {
  if (process.getuid?.() !== 0) return 'tmpfs skipped: mounting one needs root';
  const dir = mkdtempSync(join(tmpdir(), 'kubeha-bench-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1g,mode=0700', 'kubeha-bench', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return `tmpfs skipped: mount failed (${String((error as { stderr?: Buffer }).stderr ?? error).trim()})`;
  }
  if (fsType(dir) !== 'tmpfs') throw new Error(`${dir}: mounted a tmpfs but statfs says ${fsType(dir)}`);
  return {
    label: 'tmpfs',
    dir,
    release: () => {
      execFileSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
