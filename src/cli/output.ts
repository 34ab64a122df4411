/** Writes the output folder atomically: tarballs, the Ansible rollout and SHA256SUMS staged in a sibling folder, then swapped in. */
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { ANSIBLE_DIR } from '../render/ansible.js';
import { swapIn, type Staged } from './atomic.js';

/** A file to write into the output folder. */
export interface OutputFile {
  name: string;
  bytes: Buffer;
  mode: number;
}

const OURS = /(\.tar\.gz|^SHA256SUMS)$/;

/** An output folder being written beside the old one: files arrive one by one, then finish() stages it. */
export interface OutputStage {
  write: (file: OutputFile) => Promise<void>;
  /** Carries over unrelated files of the old folder (such as .gitkeep, or group_vars/ in ansible/); returns the staged folder. */
  finish: () => Staged;
  abort: () => void;
}

/** Starts writing a new output folder `<dir>.kubeha-new`. */
export function openOutputStage(dir: string): OutputStage {
  const fresh = `${dir}.kubeha-new`;
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(fresh, { recursive: true });
  const abort = () => rmSync(fresh, { recursive: true, force: true });
  return {
    // No fsync: the output can always be generated again, and gen check tells when it must be. The mode is
    // set at creation; a umask can only remove bits, so a tarball is never more open than 0600.
    write: async (f) => {
      if (f.name.includes('/')) await mkdir(dirname(join(fresh, f.name)), { recursive: true });
      await writeFile(join(fresh, f.name), f.bytes, { mode: f.mode });
    },
    finish: () => {
      try {
        if (existsSync(dir)) {
          for (const name of readdirSync(dir)) {
            const path = join(dir, name);
            const stat = statSync(path);
            if (!OURS.test(name) && stat.isFile()) copyFileSync(path, join(fresh, name));
            // The operator's files beside the playbook (group_vars/, host_vars/, ansible.cfg) stay; ours are new already.
            if (name === ANSIBLE_DIR && stat.isDirectory()) cpSync(path, join(fresh, name), { recursive: true, force: false, errorOnExist: false });
          }
        }
      } catch (error) {
        abort();
        throw error;
      }
      return { commit: () => swapIn(fresh, dir), abort };
    },
    abort,
  };
}
