/**
 * Builds every program of the e2e site (components.ts) with `go build` from our Go modules under e2e/go, each
 * component cached in its own folder keyed on its recipe, our module's files and the Go version (warm.ts is the CLI).
 */
import { chmodSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { runOrThrow } from '../proc.js';
import { GO_CACHES, REPO, cachedDir, folderDigest, keyOf, runLogged } from './cache.js';
import { COMPONENTS, goBuildArgs, goOutputName, type Component } from './components.js';

/** What one component's build gave: its folder, each program's path, and the time it took. */
export interface BuiltComponent {
  component: Component;
  dir: string;
  cached: boolean;
  seconds: number;
}

/**
 * Every built program by name (kubeadm, etcd, runc, flanneld, flannel, crane, pause, ...), with the components. A name
 * two components build (kubeadm of each Kubernetes release, coredns) is the first component's here (the oldest
 * Kubernetes); programsOf gives a given release's.
 */
export interface Programs {
  paths: Record<string, string>;
  components: BuiltComponent[];
}

/** The programs of the given components by name, a later component's winning: e.g. one Kubernetes release's with its crictl. */
export function programsOf(programs: Programs, ids: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const id of ids) {
    const built = programs.components.find((b) => b.component.id === id);
    if (!built) throw new Error(`component ${id} was not built`);
    for (const p of built.component.programs) out[p.name] = join(built.dir, p.name);
  }
  return out;
}

/** `go version`, part of every key: a new toolchain rebuilds. */
function goVersion(): string {
  return runOrThrow(['go', 'version'], 30_000).trim();
}

/** The cache key of a component: its recipe, our module's files and the toolchain. */
export function componentKey(c: Component, go = goVersion()): string {
  return keyOf({ c, module: folderDigest(join(REPO, 'e2e/go', c.module)), go });
}

/** The environment of every build: our caches, cgo as the component says, no toolchain download, go.sum as committed. */
function buildEnv(c: Component): Record<string, string> {
  return { ...GO_CACHES, CGO_ENABLED: c.cgo ? '1' : '0', GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false -mod=readonly' };
}

/** Builds (or finds cached) one component; its programs get the names components.ts gives them. */
export async function buildComponent(c: Component, log: (line: string) => void, go = goVersion()): Promise<BuiltComponent> {
  const key = componentKey(c, go);
  const made = await cachedDir(`programs/${c.id}-${c.version}`, key, async (tmp) => {
    log(`go build ${c.upstream}@${c.version}: ${c.programs.map((p) => p.name).join(', ')}`);
    const cwd = join(REPO, 'e2e/go', c.module);
    await runLogged(['go', 'build', ...goBuildArgs(c, tmp)], { env: buildEnv(c), cwd, log: join(tmp, 'build.log'), timeoutMs: 120 * 60_000 });
    for (const p of c.programs) {
      const built = goOutputName(p.pkg);
      if (built !== p.name) renameSync(join(tmp, built), join(tmp, p.name));
      chmodSync(join(tmp, p.name), 0o755);
    }
  });
  if (!made.cached) log(`built ${c.id} ${c.version} in ${made.seconds.toFixed(0)} s`);
  return { component: c, ...made };
}

/** Builds every component in order (cached ones cost a key computation each); returns every program's path. */
export async function buildPrograms(log: (line: string) => void, components: readonly Component[] = COMPONENTS): Promise<Programs> {
  const go = goVersion();
  const built: BuiltComponent[] = [];
  for (const c of components) built.push(await buildComponent(c, log, go));
  const paths: Record<string, string> = {};
  for (const b of built) for (const p of b.component.programs) paths[p.name] ??= join(b.dir, p.name);
  return { paths, components: built };
}
