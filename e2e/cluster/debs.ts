/**
 * The site's Debian packages, as data, and their build with dpkg-deb. Names, versions, sections, dependencies and
 * file lists follow the real ones:
 * - pkgs.k8s.io (kubernetes/release cmd/krel/templates/latest/<package>/<package>.spec and metadata.yaml at f618b2a3):
 *   kubelet needs iptables (>= 1.4.21), kubernetes-cni (>= 1.2.0) (metadata for >= 1.28), mount and util-linux, and ships
 *   /usr/bin/kubelet, kubelet.service, /etc/default/kubelet (KUBELET_EXTRA_ARGS=, a conffile) and keep files in
 *   /var/lib/kubelet and /etc/kubernetes/manifests; kubeadm ships /usr/bin/kubeadm and the 10-kubeadm.conf drop-in
 *   (its /etc/sysconfig/kubelet turned into /etc/default/kubelet for debs) and depends on nothing from 1.32 on; units
 *   live in /lib/systemd/system on Debian (kubernetes/website#45529, checked on bookworm); versions are
 *   <upstream>-1.1 (OBS revision 1, build 1: e.g. kubeadm_1.32.2-1.1_amd64.deb) in <repo>/amd64/.
 * - download.docker.com's containerd.io (docker/containerd-packaging at 2161c611: debian/control, debian/rules,
 *   common/containerd.toml, Makefile): Provides/Conflicts/Replaces containerd, runc; /usr/bin/{containerd,
 *   containerd-shim-runc-v2,ctr,runc}; containerd's own containerd.service with /usr/local/bin turned into /usr/bin;
 *   /etc/containerd/config.toml disabling the cri plugin; enabled and (re)started on install; versions
 *   <upstream>-1~debian.12~bookworm (e.g. containerd.io_2.2.1-1~debian.12~bookworm_amd64.deb).
 * Our own words in every file; the unit files carry the facts above, no upstream text except containerd.service,
 * which the build takes from the containerd module as Docker's packaging does.
 */
import { readFileSync } from 'node:fs';
import { component, type KubernetesRelease } from './components.js';

/** One file of a package: a built program (by name), a text, or an empty keep file. */
export interface DebFile {
  path: string;
  mode: number;
  program?: string;
  text?: string;
}

/** A package as its control file and contents describe it. */
export interface DebSpec {
  package: string;
  version: string;
  section: string;
  maintainer: string;
  homepage: string;
  depends?: string[];
  provides?: string[];
  conflicts?: string[];
  replaces?: string[];
  summary: string;
  files: DebFile[];
  conffiles?: string[];
  scripts?: Partial<Record<'postinst' | 'prerm' | 'postrm', string>>;
  /** dpkg-deb's compressor: xz (Docker's debian/rules forces it) unless gzip is asked for (much faster to build). */
  compression?: 'xz' | 'gzip';
}

const K8S_MAINTAINER = 'Kubernetes Authors <dev@kubernetes.io>';
const K8S_HOMEPAGE = 'https://kubernetes.io';

/** The version of a pkgs.k8s.io package: upstream version, OBS revision 1, build 1. */
export function k8sDebVersion(upstream: string): string {
  return `${upstream.replace(/^v/, '')}-1.1`;
}

/** The version of a download.docker.com package for Debian 12. */
export function dockerDebVersion(upstream: string): string {
  return `${upstream.replace(/^v/, '')}-1~debian.12~bookworm`;
}

/** kubelet.service as the kubelet package ships it: the bare kubelet, restarted every 10 s, after the network is up. */
const KUBELET_SERVICE = `[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
`;

/** kubeadm's drop-in: kubelet started with kubeadm's kubeconfigs, its config.yaml, kubeadm-flags.env and /etc/default/kubelet. */
const KUBEADM_DROP_IN = `# kubeadm's kubelet drop-in (kubeha e2e site): the kubelet runs with the kubeconfigs and the config file kubeadm
# writes, the flags kubeadm init/join puts in kubeadm-flags.env, then the operator's KUBELET_EXTRA_ARGS.
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`;

/** Docker's /etc/containerd/config.toml: the CRI plugin off (docker does not use it); kubeha writes its own. */
const DOCKER_CONTAINERD_TOML = `# /etc/containerd/config.toml of the containerd.io package (kubeha e2e site): the CRI plugin is disabled, as in
# Docker's package; a Kubernetes node replaces this file.
disabled_plugins = ["cri"]
`;

/** Maintainer scripts enabling a unit on install and starting it when systemd runs (what dh_installsystemd generates). */
export function unitScripts(unit: string): DebSpec['scripts'] {
  return {
    postinst: `#!/bin/sh
set -e
if [ "$1" = configure ] || [ "$1" = abort-upgrade ]; then
  deb-systemd-helper unmask ${unit} >/dev/null || true
  deb-systemd-helper enable ${unit} >/dev/null || true
  if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null || true
    deb-systemd-invoke restart ${unit} >/dev/null || true
  fi
fi
`,
    prerm: `#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
  deb-systemd-invoke stop ${unit} >/dev/null || true
fi
`,
    postrm: `#!/bin/sh
set -e
if [ "$1" = purge ]; then
  deb-systemd-helper purge ${unit} >/dev/null || true
fi
if [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
fi
`,
  };
}

/** A package of pkgs.k8s.io with its common fields. */
function k8s(pkg: string, upstream: string, section: string, summary: string, files: DebFile[], extra: Partial<DebSpec> = {}): DebSpec {
  return {
    package: pkg,
    version: k8sDebVersion(upstream),
    section,
    maintainer: K8S_MAINTAINER,
    homepage: K8S_HOMEPAGE,
    summary,
    files,
    compression: 'gzip',
    ...extra,
  };
}

/** The pkgs.k8s.io stream of a release: `v1.37`, which names its repository. */
export function streamOf(release: KubernetesRelease): string {
  return `v${release.version.split('.').slice(0, 2).join('.')}`;
}

/** The components whose programs a release's packages carry (later ones win a shared name). */
export function debComponents(release: KubernetesRelease): string[] {
  return ['cni-plugins', release.criTools, release.id];
}

/** The five packages of a release's pkgs.k8s.io repository (kubernetes-cni 1.10.0 in every stream here). */
export function kubernetesDebs(release: KubernetesRelease): DebSpec[] {
  const cni = component('cni-plugins');
  return [
    k8s(
      'kubelet',
      release.version,
      'net',
      'Node agent for Kubernetes clusters',
      [
        { path: '/usr/bin/kubelet', mode: 0o755, program: 'kubelet' },
        { path: '/lib/systemd/system/kubelet.service', mode: 0o644, text: KUBELET_SERVICE },
        { path: '/etc/default/kubelet', mode: 0o644, text: 'KUBELET_EXTRA_ARGS=\n' },
        { path: '/var/lib/kubelet/.kubelet-keep', mode: 0o644, text: '' },
        { path: '/etc/kubernetes/manifests/.kubelet-keep', mode: 0o644, text: '' },
      ],
      {
        depends: ['iptables (>= 1.4.21)', 'kubernetes-cni (>= 1.2.0)', 'mount', 'util-linux'],
        conffiles: ['/etc/default/kubelet'],
        scripts: unitScripts('kubelet.service'),
      },
    ),
    k8s('kubeadm', release.version, 'admin', 'Command-line utility for administering a Kubernetes cluster', [
      { path: '/usr/bin/kubeadm', mode: 0o755, program: 'kubeadm' },
      { path: '/lib/systemd/system/kubelet.service.d/10-kubeadm.conf', mode: 0o644, text: KUBEADM_DROP_IN },
    ]),
    k8s('kubectl', release.version, 'admin', 'Command-line utility for interacting with a Kubernetes cluster', [
      { path: '/usr/bin/kubectl', mode: 0o755, program: 'kubectl' },
    ]),
    k8s('cri-tools', component(release.criTools).version, 'admin', 'Command-line utility for interacting with a container runtime', [
      { path: '/usr/bin/crictl', mode: 0o755, program: 'crictl' },
    ]),
    k8s('kubernetes-cni', cni.version, 'net', 'Binaries required to provision kubernetes container networking', [
      ...cni.programs.map((p): DebFile => ({ path: `/opt/cni/bin/${p.name}`, mode: 0o755, program: p.name })),
      { path: '/etc/cni/net.d/.kubernetes-cni-keep', mode: 0o644, text: '' },
    ]),
  ];
}

/** download.docker.com's containerd.io for Debian 12; containerd.service is read from the containerd module (modDir). */
export function containerdDeb(containerdModuleDir: string, shlibsDepends: string[]): DebSpec {
  const unit = readFileSync(`${containerdModuleDir}/containerd.service`, 'utf8').replaceAll('/usr/local/bin/containerd', '/usr/bin/containerd');
  return {
    package: 'containerd.io',
    version: dockerDebVersion(component('containerd').version),
    section: 'devel',
    maintainer: 'Containerd team <help@containerd.io>',
    homepage: 'https://containerd.io',
    depends: shlibsDepends,
    provides: ['containerd', 'runc'],
    conflicts: ['containerd', 'runc'],
    replaces: ['containerd', 'runc'],
    summary: 'An open and reliable container runtime',
    files: [
      ...['containerd', 'containerd-shim-runc-v2', 'ctr', 'runc'].map((p): DebFile => ({ path: `/usr/bin/${p}`, mode: 0o755, program: p })),
      { path: '/lib/systemd/system/containerd.service', mode: 0o644, text: unit },
      { path: '/etc/containerd/config.toml', mode: 0o644, text: DOCKER_CONTAINERD_TOML },
    ],
    conffiles: ['/etc/containerd/config.toml'],
    scripts: unitScripts('containerd.service'),
  };
}

/** The control file of a package (Installed-Size in KiB, as dpkg-gencontrol counts it: each file rounded up). */
export function controlText(spec: DebSpec, installedSizeKiB: number): string {
  const list = (name: string, items?: string[]) => (items?.length ? [`${name}: ${items.join(', ')}`] : []);
  return `${[
    `Package: ${spec.package}`,
    `Version: ${spec.version}`,
    'Architecture: amd64',
    `Maintainer: ${spec.maintainer}`,
    `Installed-Size: ${installedSizeKiB}`,
    ...list('Depends', spec.depends),
    ...list('Provides', spec.provides),
    ...list('Conflicts', spec.conflicts),
    ...list('Replaces', spec.replaces),
    `Section: ${spec.section}`,
    'Priority: optional',
    `Homepage: ${spec.homepage}`,
    `Description: ${spec.summary}`,
    ` ${spec.summary}.`,
  ].join('\n')}\n`;
}

/** Installed-Size in KiB from the files' sizes in bytes. */
export function installedSize(sizes: number[]): number {
  return sizes.reduce((sum, s) => sum + Math.max(1, Math.ceil(s / 1024)), 0);
}

/** The file name Debian gives a package: NAME_VERSION_ARCH.deb (an epoch's colon would become %3a; none here). */
export function debFileName(spec: DebSpec): string {
  return `${spec.package}_${spec.version}_amd64.deb`;
}
