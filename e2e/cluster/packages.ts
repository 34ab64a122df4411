/**
 * Builds the site's .deb files (debs.ts) from the built programs with dpkg-deb, cached under a key of the package
 * specs and the programs' own cache folders (which carry their keys).
 */
import { copyFileSync, chmodSync, mkdirSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runOrThrow } from '../proc.js';
import { GO_CACHES, cachedDir, keyOf, type Cached } from './cache.js';
import { component, KUBERNETES_RELEASES, type KubernetesRelease } from './components.js';
import { containerdDeb, controlText, debComponents, debFileName, installedSize, kubernetesDebs, streamOf, type DebSpec } from './debs.js';
import { programsOf, type Programs } from './programs.js';

/** The built packages: each pkgs.k8s.io stream's (by `v1.36`) and containerd.io, each a .deb path; each build's folder. */
export interface Debs {
  kubernetes: Record<string, string[]>;
  docker: string[];
  builds: (Cached & { what: string })[];
}

/** SOURCE_DATE_EPOCH of every package (dpkg-deb clamps its timestamps to it): a rebuild gives the same bytes. */
const EPOCH = '1784743658';

/** Writes one package's tree under root and builds NAME_VERSION_amd64.deb into outDir; returns its path. */
export function buildDeb(spec: DebSpec, programs: Record<string, string>, root: string, outDir: string): string {
  const sizes: number[] = [];
  for (const f of spec.files) {
    const to = join(root, f.path);
    mkdirSync(dirname(to), { recursive: true });
    if (f.program !== undefined) {
      const from = programs[f.program];
      if (from === undefined) throw new Error(`${spec.package}: no built program ${f.program}`);
      copyFileSync(from, to);
    } else writeFileSync(to, f.text ?? '');
    chmodSync(to, f.mode);
    sizes.push(statSync(to).size);
  }
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  writeFileSync(join(root, 'DEBIAN/control'), controlText(spec, installedSize(sizes)));
  if (spec.conffiles?.length) writeFileSync(join(root, 'DEBIAN/conffiles'), `${spec.conffiles.join('\n')}\n`);
  for (const [name, text] of Object.entries(spec.scripts ?? {})) writeFileSync(join(root, 'DEBIAN', name), text, { mode: 0o755 });
  const out = join(outDir, debFileName(spec));
  runOrThrow(['env', `SOURCE_DATE_EPOCH=${EPOCH}`, 'dpkg-deb', '--root-owner-group', `-Z${spec.compression ?? 'xz'}`, '--build', root, out], 600_000);
  return out;
}

/** What dpkg-shlibdeps says the binaries need (Docker's debian/control has Depends: ${shlibs:Depends}). */
export function shlibsDepends(binaries: string[], work: string): string[] {
  mkdirSync(join(work, 'debian'), { recursive: true });
  writeFileSync(join(work, 'debian/control'), 'Source: shlibs\n\nPackage: shlibs\nArchitecture: any\n');
  const out = runOrThrow(['dpkg-shlibdeps', '-O', ...binaries.map((b) => `-e${b}`)], 60_000, work);
  const line = out.split('\n').find((l) => l.startsWith('shlibs:Depends='));
  return line ? line.slice('shlibs:Depends='.length).split(', ').filter(Boolean) : [];
}

/** The .deb files of a cached build's folder. */
function debsIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.deb'))
    .map((n) => join(dir, n));
}

/** Builds (or finds cached) one Kubernetes release's five packages, keyed on their specs and their programs' folders. */
async function buildKubernetesDebs(release: KubernetesRelease, programs: Programs, log: (line: string) => void): Promise<Cached> {
  const ids = debComponents(release);
  const inputs = programs.components.filter((c) => ids.includes(c.component.id)).map((c) => c.dir);
  const specs = kubernetesDebs(release);
  return cachedDir(`debs-${streamOf(release)}`, keyOf({ specs, inputs }), (tmp) => {
    log(`dpkg-deb: kubelet, kubeadm, kubectl ${release.version}, cri-tools, kubernetes-cni (${streamOf(release)})`);
    const paths = programsOf(programs, ids);
    for (const spec of specs) buildDeb(spec, paths, join(tmp, 'stage', spec.package), tmp);
    runOrThrow(['rm', '-rf', join(tmp, 'stage')], 60_000);
  });
}

/** Builds (or finds cached) containerd.io, keyed on its unit and its programs' folders. */
async function buildContainerdDeb(programs: Programs, log: (line: string) => void): Promise<Cached> {
  const containerdDir = join(GO_CACHES.GOMODCACHE, `github.com/containerd/containerd/v2@${component('containerd').version}`);
  const ids = ['containerd', 'containerd-shim', 'runc'];
  const inputs = programs.components.filter((c) => ids.includes(c.component.id)).map((c) => c.dir);
  return cachedDir('debs-containerd', keyOf({ inputs, unit: containerdDeb(containerdDir, []) }), (tmp) => {
    log('dpkg-deb: containerd.io');
    const paths = programsOf(programs, ids);
    const bins = ['containerd', 'containerd-shim-runc-v2', 'ctr', 'runc'].map((p) => paths[p]!);
    const spec = containerdDeb(containerdDir, shlibsDepends(bins, join(tmp, 'shlibs')));
    buildDeb(spec, paths, join(tmp, 'stage', spec.package), tmp);
    runOrThrow(['rm', '-rf', join(tmp, 'stage'), join(tmp, 'shlibs')], 60_000);
  });
}

/** Builds (or finds cached) every package of the site: each Kubernetes release's stream and containerd.io. */
export async function buildDebs(programs: Programs, log: (line: string) => void): Promise<Debs> {
  const kubernetes: Record<string, string[]> = {};
  const builds: Debs['builds'] = [];
  for (const release of KUBERNETES_RELEASES) {
    const made = await buildKubernetesDebs(release, programs, log);
    kubernetes[streamOf(release)] = debsIn(made.dir);
    builds.push({ ...made, what: `debs ${streamOf(release)}` });
  }
  const docker = await buildContainerdDeb(programs, log);
  builds.push({ ...docker, what: 'debs containerd.io' });
  return { kubernetes, docker: debsIn(docker.dir), builds };
}
