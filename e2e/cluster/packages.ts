/**
 * Builds the site's .deb files (debs.ts) from the built programs with dpkg-deb, cached under a key of the package
 * specs and the programs' own cache folders (which carry their keys).
 */
import { copyFileSync, chmodSync, mkdirSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runOrThrow } from '../proc.js';
import { GO_CACHES, cachedDir, keyOf } from './cache.js';
import { component } from './components.js';
import { containerdDeb, controlText, debFileName, installedSize, kubernetesDebs, type DebSpec } from './debs.js';
import type { Programs } from './programs.js';

/** The built packages: the pkgs.k8s.io ones and containerd.io, each a .deb path. */
export interface Debs {
  kubernetes: string[];
  docker: string[];
  dir: string;
  cached: boolean;
  seconds: number;
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

/** Builds (or finds cached) every package of the site. */
export async function buildDebs(programs: Programs, log: (line: string) => void): Promise<Debs> {
  const containerdDir = join(GO_CACHES.GOMODCACHE, `github.com/containerd/containerd/v2@${component('containerd').version}`);
  const inputs = programs.components.map((c) => c.dir);
  const key = keyOf({ specs: kubernetesDebs(), inputs, unit: containerdDeb(containerdDir, []) });
  const made = await cachedDir('debs', key, (tmp) => {
    log('dpkg-deb: kubelet, kubeadm, kubectl, cri-tools, kubernetes-cni, containerd.io');
    mkdirSync(join(tmp, 'kubernetes'));
    mkdirSync(join(tmp, 'docker'));
    for (const spec of kubernetesDebs()) buildDeb(spec, programs.paths, join(tmp, 'stage', spec.package), join(tmp, 'kubernetes'));
    const bins = ['containerd', 'containerd-shim-runc-v2', 'ctr', 'runc'].map((p) => programs.paths[p]!);
    const spec = containerdDeb(containerdDir, shlibsDepends(bins, join(tmp, 'shlibs')));
    buildDeb(spec, programs.paths, join(tmp, 'stage', spec.package), join(tmp, 'docker'));
    runOrThrow(['rm', '-rf', join(tmp, 'stage'), join(tmp, 'shlibs')], 60_000);
  });
  const list = (sub: string) => readdirSync(join(made.dir, sub)).map((n) => join(made.dir, sub, n));
  return { kubernetes: list('kubernetes'), docker: list('docker'), ...made };
}
