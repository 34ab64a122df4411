/**
 * Packages of Kubernetes nodes as data: the per-minor pkgs.k8s.io repositories, the pinned kubelet/kubeadm/kubectl,
 * the container runtime and the tools kubeadm's preflight and kube-proxy's mode need.
 */
import { kubernetesMinor } from '../common/kubernetes-versions.js';
import { dockerPackagesBase, kubernetesPackagesBase } from '../model/mirrors.js';
import type { ClusterModel } from '../model/types.js';
import { keyComment, keyIsPinned, keySource, RPM_KEY_PATHS, type PackageRepository } from './package-keys.js';

/** The Kubernetes packages, pinned to the inventory's exact version and held against upgrades. */
export const KUBE_PACKAGES = ['kubelet', 'kubeadm', 'kubectl'] as const;

/** Where the Debian keyring of pkgs.k8s.io goes. */
export const K8S_APT_KEYRING = '/etc/apt/keyrings/kubernetes-apt-keyring.gpg';
/** The apt source list of pkgs.k8s.io. */
export const K8S_APT_LIST = '/etc/apt/sources.list.d/kubernetes.list';
/** The yum/dnf repository file of pkgs.k8s.io. */
export const K8S_YUM_REPO = '/etc/yum.repos.d/kubernetes.repo';
/** The yum/dnf repository file of download.docker.com (containerd.io, docker-ce). */
export const DOCKER_YUM_REPO = '/etc/yum.repos.d/docker-ce.repo';
/** The Debian keyring of download.docker.com. */
export const DOCKER_APT_KEYRING = '/etc/apt/keyrings/docker.asc';
/** The apt source list of download.docker.com. */
export const DOCKER_APT_LIST = '/etc/apt/sources.list.d/docker.list';

/** `v1.34`: the minor stream of the cluster, which names its pkgs.k8s.io repository. */
export function minorStream(model: ClusterModel): string {
  return kubernetesMinor(model.cluster.minor).packages;
}

/** The per-minor repository URL for deb or rpm: pkgs.k8s.io, or mirrors.kubernetesPackages laid out the same way. */
export function pkgsK8sUrl(model: ClusterModel, kind: 'deb' | 'rpm'): string {
  return `${kubernetesPackagesBase(model.mirrors)}/${minorStream(model)}/${kind}/`;
}

/** The apt source line of pkgs.k8s.io (flat repository `/`), signed by its Release.key. */
export function k8sAptLine(model: ClusterModel): string {
  return `deb [signed-by=${K8S_APT_KEYRING}] ${pkgsK8sUrl(model, 'deb')} /`;
}

/** The apt source list of pkgs.k8s.io: the source line, after a comment naming the inventory's signing key if it gives one. */
export function k8sAptList(model: ClusterModel): string {
  return withKeyComment(model, 'kubernetes', k8sAptLine(model));
}

/** A repository file's text after the comment naming the inventory's key (a new key changes the file: run.sh installs it again). */
function withKeyComment(model: ClusterModel, repository: PackageRepository, text: string): string {
  const comment = keyComment(model, repository);
  return comment ? `${comment}\n${text}` : text;
}

/** A .repo file's gpgkey: the checked copy run.sh installs when the inventory pins the key, else the key's URL. */
function yumGpgKey(model: ClusterModel, repository: PackageRepository, upstream: string): string {
  return keyIsPinned(model, repository) ? `file://${RPM_KEY_PATHS[repository]}` : (keySource(model, repository) ?? upstream);
}

/** The Release.key of the deb repository. */
export function k8sAptKeyUrl(model: ClusterModel): string {
  return `${pkgsK8sUrl(model, 'deb')}Release.key`;
}

/** The signing key of the rpm repository. */
export function k8sYumKeyUrl(model: ClusterModel): string {
  return `${pkgsK8sUrl(model, 'rpm')}repodata/repomd.xml.key`;
}

/** The .repo file of pkgs.k8s.io: signed metadata, and an exclude so a plain `dnf upgrade` never moves Kubernetes. */
export function k8sYumRepo(model: ClusterModel): string {
  const base = pkgsK8sUrl(model, 'rpm');
  const repo = [
    '[kubernetes]',
    `name=Kubernetes ${minorStream(model)}`,
    `baseurl=${base}`,
    'enabled=1',
    'gpgcheck=1',
    `gpgkey=${yumGpgKey(model, 'kubernetes', k8sYumKeyUrl(model))}`,
    'exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni',
  ];
  return withKeyComment(model, 'kubernetes', repo.join('\n'));
}

/** The repositories of download.docker.com (or mirrors.dockerPackages): apt per distribution, one for dnf ($releasever and $basearch expanded by dnf). */
export function dockerRepositories(model: ClusterModel): {
  debBase: string;
  deb: { id: string; url: string; key: string }[];
  rpm: { url: string; key: string };
} {
  const base = dockerPackagesBase(model.mirrors);
  return {
    debBase: base,
    deb: ['debian', 'ubuntu'].map((id) => ({ id, url: `${base}/linux/${id}`, key: `${base}/linux/${id}/gpg` })),
    rpm: { url: `${base}/linux/centos/$releasever/$basearch/stable`, key: `${base}/linux/centos/gpg` },
  };
}

/** The .repo file of download.docker.com (or its mirror) for RHEL-like hosts. */
export function dockerYumRepo(model: ClusterModel): string {
  const { rpm } = dockerRepositories(model);
  const repo = [
    '[docker-ce-stable]',
    'name=Docker CE Stable - $basearch',
    `baseurl=${rpm.url}`,
    'enabled=1',
    'gpgcheck=1',
    `gpgkey=${yumGpgKey(model, 'docker', rpm.key)}`,
  ];
  return withKeyComment(model, 'docker', repo.join('\n'));
}

/** apt pins (`kubelet=1.34.2-*`) and dnf specs (`kubelet-1.34.2`) of the Kubernetes packages. */
export function kubePackageSpecs(model: ClusterModel): { deb: string[]; rpm: string[] } {
  const v = model.cluster.kubernetesVersion;
  return { deb: KUBE_PACKAGES.map((p) => `${p}=${v}-*`), rpm: KUBE_PACKAGES.map((p) => `${p}-${v}`) };
}

/**
 * Tools by OS family: conntrack and socat for kubeadm's preflight, cri-tools (crictl: run.sh stops kube-apiserver's
 * container with it when its etcd client certificate changed; pkgs.k8s.io's kubeadm no longer depends on cri-tools from
 * 1.32, kubernetes/release krel metadata, so nothing else brings it), ipset/ipvsadm in ipvs mode, nft in nftables mode.
 */
export function nodeTools(model: ClusterModel): { deb: string[]; rpm: string[] } {
  const mode = model.cluster.kubeProxyMode;
  const extra = mode === 'ipvs' ? ['ipset', 'ipvsadm'] : mode === 'nftables' ? ['nftables'] : [];
  return { deb: ['conntrack', 'socat', 'cri-tools', ...extra], rpm: ['conntrack-tools', 'socat', 'cri-tools', ...extra] };
}

/**
 * RHEL-family packages that cannot stay beside containerd.io: Docker's install guide for RHEL removes these before it
 * installs (docs.docker.com/engine/install/rhel: docker ... podman runc), containerd.io's spec provides, obsoletes and
 * conflicts with runc and containerd (docker/containerd-packaging rpm/containerd.spec), and buildah, like podman,
 * requires the distribution's runc.
 */
export const CONTAINERD_IO_CONFLICTS = [
  'docker',
  'docker-client',
  'docker-client-latest',
  'docker-common',
  'docker-latest',
  'docker-latest-logrotate',
  'docker-logrotate',
  'docker-engine',
  'podman',
  'buildah',
  'runc',
  'containerd',
] as const;

/** Runtime packages, from download.docker.com on every OS family: containerd.io, or docker-ce with it. */
export function runtimePackages(model: ClusterModel): { deb: string[]; rpm: string[] } {
  const packages = model.cluster.containerRuntime === 'docker' ? ['docker-ce', 'docker-ce-cli', 'containerd.io'] : ['containerd.io'];
  return { deb: packages, rpm: packages };
}

/** The oldest containerd the cluster's Kubernetes minor supports (the version table's column; sources there). */
export function containerdMinimum(model: ClusterModel): string {
  return kubernetesMinor(model.cluster.minor).containerd;
}
