/**
 * Cgroups of the booted Kubernetes hosts. This machine has hybrid cgroups (v1 controllers plus an empty v2 hierarchy)
 * and systemd-nspawn with --keep-unit --register=no leaves every container in its caller's cgroups, so nine kubelets
 * would share one /kubepods. Each host gets its own cgroup in every hierarchy, under one folder of this run that sits
 * under this process's own cgroup of that hierarchy (the machine's cgroups above it are not ours), and the whole
 * folder is removed, depth first, on every exit. Research: ../shared/reference/real-cluster.md, section 3.2.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The mounted hierarchies of /sys/fs/cgroup and this process's path in each (from /proc/self/cgroup). */
export function ownCgroups(): { hierarchy: string; path: string }[] {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  const out: { hierarchy: string; path: string }[] = [];
  for (const line of lines) {
    const [, controllers, path] = line.split(':') as [string, string, string];
    const hierarchy = controllers === '' ? 'unified' : controllers.replace(/^name=/, '');
    if (existsSync(join('/sys/fs/cgroup', hierarchy, 'cgroup.procs'))) out.push({ hierarchy, path });
  }
  return out;
}

/** One run's cgroup folder in every hierarchy, with a sub-cgroup per host. */
export class HostCgroups {
  private readonly bases: string[];

  constructor(readonly folder: string) {
    this.bases = ownCgroups().map((c) => join('/sys/fs/cgroup', c.hierarchy, c.path, folder));
  }

  /** Makes the host's cgroup in every hierarchy (cpuset given its parent's CPUs and memory nodes) and returns every cgroup.procs file a launcher writes its pid to. */
  forHost(host: string): string[] {
    return this.bases.map((base) => {
      for (const dir of [base, join(base, host)]) {
        mkdirSync(dir, { recursive: true });
        if (existsSync(join(dir, 'cpuset.cpus'))) for (const f of ['cpuset.cpus', 'cpuset.mems']) copyFromParent(dir, f);
      }
      return join(base, host, 'cgroup.procs');
    });
  }

  /** Pids still in any of this run's cgroups. */
  pids(): number[] {
    const found = new Set<number>();
    for (const base of this.bases) for (const dir of tree(base)) for (const pid of readPids(join(dir, 'cgroup.procs'))) found.add(pid);
    return [...found];
  }

  /** Removes every cgroup of this run, deepest first; returns the folders it could not remove (still busy). */
  removeAll(): string[] {
    const left: string[] = [];
    for (const base of this.bases) {
      for (const dir of tree(base).reverse()) {
        try {
          rmdirSync(dir);
        } catch {
          if (existsSync(dir)) left.push(dir);
        }
      }
    }
    return left;
  }
}

function copyFromParent(dir: string, file: string): void {
  const own = readFileSync(join(dir, file), 'utf8').trim();
  if (own !== '') return;
  writeFileSync(join(dir, file), readFileSync(join(dir, '..', file), 'utf8'));
}

/** A cgroup folder and every cgroup below it, parents before children (empty when it does not exist). */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out = [dir];
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) out.push(...tree(join(dir, entry.name)));
  return out;
}

function readPids(file: string): number[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
