/** The self-check's package checks: the control fields of every built package, and apt against the served repositories. */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runOrThrow, runSync } from '../proc.js';
import type { SiteBuild } from './site.js';
import { client, NET, type Check } from './selfcheck-net.js';

/** Control fields each package must have, by pkgs.k8s.io stream (pkgs.k8s.io's and download.docker.com's, see debs.ts). */
const KUBELET = { Section: 'net', Depends: 'iptables (>= 1.4.21), kubernetes-cni (>= 1.2.0), mount, util-linux' };
const EXPECTED: Record<string, Record<string, Record<string, string>>> = {
  'v1.36': {
    kubelet: { Version: '1.36.3-1.1', ...KUBELET },
    kubeadm: { Version: '1.36.3-1.1', Section: 'admin', Depends: '' },
    kubectl: { Version: '1.36.3-1.1', Section: 'admin', Depends: '' },
    'cri-tools': { Version: '1.36.0-1.1', Section: 'admin', Depends: '' },
    'kubernetes-cni': { Version: '1.10.0-1.1', Section: 'net', Depends: '' },
  },
  'v1.37': {
    kubelet: { Version: '1.37.2-1.1', ...KUBELET },
    kubeadm: { Version: '1.37.2-1.1', Section: 'admin', Depends: '' },
    kubectl: { Version: '1.37.2-1.1', Section: 'admin', Depends: '' },
    'cri-tools': { Version: '1.37.0-1.1', Section: 'admin', Depends: '' },
    'kubernetes-cni': { Version: '1.10.0-1.1', Section: 'net', Depends: '' },
  },
  docker: {
    'containerd.io': {
      Version: '2.2.9-1~debian.12~bookworm',
      Section: 'devel',
      Provides: 'containerd, runc',
      Conflicts: 'containerd, runc',
      Replaces: 'containerd, runc',
    },
  },
};

/** Paths each package must ship (dpkg-deb -c). */
const SHIPS: Record<string, string[]> = {
  kubelet: ['./usr/bin/kubelet', './lib/systemd/system/kubelet.service', './etc/default/kubelet', './var/lib/kubelet/.kubelet-keep'],
  kubeadm: ['./usr/bin/kubeadm', './lib/systemd/system/kubelet.service.d/10-kubeadm.conf'],
  'kubernetes-cni': ['./opt/cni/bin/bridge', './opt/cni/bin/host-local', './opt/cni/bin/loopback', './opt/cni/bin/portmap'],
  'containerd.io': ['./usr/bin/containerd', './usr/bin/containerd-shim-runc-v2', './usr/bin/ctr', './usr/bin/runc', './etc/containerd/config.toml'],
};

/** Checks every .deb's fields and contents with dpkg-deb; returns one line per package. */
export function checkDebs(built: SiteBuild): string {
  const lines: string[] = [];
  const repositories = { ...built.debs.kubernetes, docker: built.debs.docker };
  if (JSON.stringify(Object.keys(repositories)) !== JSON.stringify(Object.keys(EXPECTED))) throw new Error(`built ${Object.keys(repositories).join(', ')}`);
  for (const [repository, deb] of Object.entries(repositories).flatMap(([r, debs]) => debs.map((d) => [r, d] as const))) {
    const pkg = runOrThrow(['dpkg-deb', '-f', deb, 'Package']).trim();
    const want = EXPECTED[repository]?.[pkg];
    if (!want) throw new Error(`unexpected package ${pkg} in ${repository} (${deb})`);
    for (const [field, value] of Object.entries(want)) {
      const got = runOrThrow(['dpkg-deb', '-f', deb, field]).trim();
      if (got !== value) throw new Error(`${basename(deb)} ${field}: ${JSON.stringify(got)}, expected ${JSON.stringify(value)}`);
    }
    const listing = runOrThrow(['dpkg-deb', '-c', deb]);
    for (const path of SHIPS[pkg] ?? []) if (!listing.includes(` ${path}\n`)) throw new Error(`${basename(deb)} does not ship ${path}`);
    lines.push(`${basename(deb)}: ${runOrThrow(['dpkg-deb', '-f', deb, 'Depends']).trim() || '(no Depends)'}`);
  }
  return lines.join('\n');
}

/** The listed pkgs.k8s.io repository of a Kubernetes version. */
function k8sRepository(ctx: Check, version: string) {
  const stream = `v${version.split('.').slice(0, 2).join('.')}`;
  const found = ctx.list.repositories.find((r) => r.format === 'deb' && r.url.endsWith(`/${stream}/deb/`));
  if (!found) throw new Error(`gen artifacts lists no ${stream} deb repository`);
  return found;
}

/** The apt sources run.sh writes for the two repositories (templates/kubernetes/packages-kubernetes and docker-apt-repo). */
function sources(ctx: Check, version: string, k8sKeyring: string, dockerKeyring: string): string {
  const k8s = k8sRepository(ctx, version);
  const docker = `${ctx.site.origin}/docker/linux/debian`;
  return `deb [signed-by=${k8sKeyring}] ${k8s.url} /\ndeb [signed-by=${dockerKeyring}] ${docker} bookworm stable\n`;
}

/** An overlay over the e2e image's root at work/chroot/root (unmount with the returned function). */
function overlay(imageRoot: string, work: string): { root: string; unmount: () => void } {
  const dir = join(work, 'chroot');
  for (const d of ['upper', 'work', 'root']) mkdirSync(join(dir, d), { recursive: true });
  const root = join(dir, 'root');
  runOrThrow(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${imageRoot},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, root]);
  return { root, unmount: () => void runSync(['umount', '-l', root]) };
}

/** Trusts the site CA and puts both keys where run.sh puts them (fetched through the mirror as run.sh does). */
function trustSite(ctx: Check, root: string): void {
  copyFileSync(ctx.site.caCert, join(root, 'usr/local/share/ca-certificates/kubeha-site.crt'));
  runOrThrow(['chroot', root, 'update-ca-certificates'], 60_000);
  mkdirSync(join(root, 'etc/apt/keyrings'), { recursive: true });
  const k8s = ctx.list.repositories.find((r) => r.format === 'deb' && r.url.endsWith('/deb/'))!;
  // Every stream is signed with the same key, as pkgs.k8s.io's are.
  const armored = client(['curl', '-fsS', '--cacert', ctx.site.caCert, k8s.key]);
  writeFileSync(join(ctx.work, 'k8s.asc'), armored);
  runOrThrow(['gpg', '--batch', '--yes', '--dearmor', '-o', join(root, 'etc/apt/keyrings/kubernetes-apt-keyring.gpg'), join(ctx.work, 'k8s.asc')]);
  writeFileSync(join(root, 'etc/apt/keyrings/docker.asc'), client(['curl', '-fsS', '--cacert', ctx.site.caCert, `${ctx.site.origin}/docker/linux/debian/gpg`]));
}

/** apt-get in the chroot from the client namespace; returns its result. */
function apt(root: string, args: string[]) {
  return runSync(['ip', 'netns', 'exec', NET.client, 'chroot', root, 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args], 600_000);
}

/**
 * apt update and install of one Kubernetes version's packages from the site in a chroot; then the same update under
 * the wrong keys must fail.
 */
export function checkApt(ctx: Check, imageRoot: string, version: string): string {
  const { root, unmount } = overlay(imageRoot, join(ctx.work, version));
  try {
    trustSite(ctx, root);
    const keyrings = { k8s: '/etc/apt/keyrings/kubernetes-apt-keyring.gpg', docker: '/etc/apt/keyrings/docker.asc' };
    writeFileSync(join(root, 'etc/apt/sources.list'), sources(ctx, version, keyrings.k8s, keyrings.docker));
    const update = apt(root, ['update']);
    if (update.status !== 0 || /NO_PUBKEY|not signed|insecure/i.test(update.stdout + update.stderr))
      throw new Error(`apt-get update:\n${update.stdout}${update.stderr}`);
    const install = apt(root, [
      'install',
      '-y',
      '--no-install-recommends',
      `kubeadm=${version}-*`,
      `kubectl=${version}-*`,
      'cri-tools',
      'kubernetes-cni',
      'containerd.io',
    ]);
    if (install.status !== 0) throw new Error(`apt-get install:\n${install.stdout}${install.stderr}`);
    const download = apt(root, ['download', `kubelet=${version}-1.1`]);
    if (download.status !== 0) throw new Error(`apt-get download kubelet:\n${download.stderr}`);
    const kubeadm = runOrThrow(['chroot', root, 'kubeadm', 'version', '-o', 'short']).trim();
    const enabled = runOrThrow(['chroot', root, 'systemctl', 'is-enabled', 'containerd.service']).trim();
    const toml = readFileSync(join(root, 'etc/containerd/config.toml'), 'utf8');
    if (kubeadm !== `v${version}` || enabled !== 'enabled' || !toml.includes('disabled_plugins = ["cri"]'))
      throw new Error(`installed: kubeadm ${kubeadm}, containerd ${enabled}, config.toml:\n${toml}`);
    writeFileSync(join(root, 'etc/apt/sources.list'), sources(ctx, version, keyrings.docker, keyrings.k8s));
    rmSync(join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
    mkdirSync(join(root, 'var/lib/apt/lists/partial'), { recursive: true });
    const wrong = apt(root, ['update']);
    const refused = (wrong.stdout + wrong.stderr).match(/is not signed/g)?.length ?? 0;
    if (wrong.status === 0 || refused !== 2)
      throw new Error(`apt-get update under swapped keys did not refuse both repositories:\n${wrong.stdout}${wrong.stderr}`);
    return `installed kubeadm (${kubeadm}), kubectl, cri-tools, kubernetes-cni, containerd.io (containerd.service ${enabled}); kubelet downloaded; under swapped keys apt-get update exits ${wrong.status}, both repositories not signed`;
  } finally {
    unmount();
  }
}
