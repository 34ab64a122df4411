/**
 * The one list of container images the cluster pulls (control plane, kube-proxy, coredns, pause, flannel), with the
 * name every generated config writes (after mirrors.registries) and the upstream name a mirror is filled from.
 * kubeadm-config.yaml, containerd's and cri-dockerd's sandbox image, the flannel manifest and `gen artifacts` all read it.
 */
import { versionForMinor, type ByMinor } from '../common/versions.js';
import type { ClusterModel } from './types.js';
import { mirroredName } from './mirrors.js';

/** kubeadm's default image registry. */
export const KUBERNETES_REGISTRY = 'registry.k8s.io';

/**
 * The pause (sandbox) image tag kubeadm of each Kubernetes minor expects (kubeadm constants.PauseVersion; 1.34-1.37 read
 * from cmd/kubeadm/app/constants/constants.go of the k8s.io/kubernetes modules v1.34.2, v1.35.4, v1.36.3 and v1.37.2).
 */
export const PAUSE_VERSIONS: ByMinor = { 24: '3.7', 25: '3.8', 26: '3.9', 31: '3.10', 34: '3.10.1', 36: '3.10.2' };

/**
 * The CoreDNS tag kubeadm of each Kubernetes minor deploys (kubeadm constants.CoreDNSVersion; 1.32 checked against
 * the release-1.32 constants.go; 1.34, 1.35 and 1.36 against the constants of the k8s.io/kubernetes modules v1.34.2,
 * v1.35.4 and v1.36.3).
 */
export const COREDNS_VERSIONS: ByMinor = {
  24: 'v1.8.6',
  25: 'v1.9.3',
  27: 'v1.10.1',
  29: 'v1.11.1',
  31: 'v1.11.3',
  33: 'v1.12.0',
  34: 'v1.12.1',
  35: 'v1.13.1',
  36: 'v1.14.2',
};

/** One flannel release: the daemon image and the CNI plugin image it ships with (upstream kube-flannel.yml). */
export const FLANNEL_RELEASE = {
  version: 'v0.27.4',
  image: 'ghcr.io/flannel-io/flannel:v0.27.4',
  cniPluginImage: 'ghcr.io/flannel-io/flannel-cni-plugin:v1.8.0-flannel1',
} as const;

/** The images, by the name kubeha gives each. */
export type ImageName =
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kube-proxy'
  | 'coredns'
  | 'pause'
  | 'flannel'
  | 'flannel-cni-plugin'
  | 'kube-prometheus';

/** One image: the reference the generated configs use, where it comes from upstream, and which hosts pull it. */
export interface ClusterImage {
  name: ImageName;
  image: string;
  upstream: string;
  pulledBy: 'control planes' | 'every node' | 'nodes running coredns' | 'nodes running kube-prometheus';
}

/** What kubeadm-config.yaml sets: imageRepository, and dns.imageRepository when a mirror of registry.k8s.io stands in. */
export function kubeadmRepositories(model: ClusterModel): { imageRepository: string; dnsImageRepository?: string } {
  const given = model.cluster.imageRepository;
  const imageRepository = mirroredName(model.mirrors, given);
  // kubeadm pulls coredns from <repo>/coredns/coredns only for registry.k8s.io itself and from <repo>/coredns for any
  // other repository; a mirror of registry.k8s.io keeps upstream's paths, so it is told where coredns is.
  if (given === KUBERNETES_REGISTRY && imageRepository !== given) return { imageRepository, dnsImageRepository: `${imageRepository}/coredns` };
  return { imageRepository };
}

/** Every image the cluster pulls, in a fixed order. */
export function clusterImages(model: ClusterModel): ClusterImage[] {
  const { imageRepository, dnsImageRepository } = kubeadmRepositories(model);
  const version = `v${model.cluster.kubernetesVersion}`;
  const coredns = versionForMinor(COREDNS_VERSIONS, model.cluster.minor, 'CoreDNS');
  const pause = versionForMinor(PAUSE_VERSIONS, model.cluster.minor, 'pause');
  const dnsRepository = dnsImageRepository ?? (imageRepository === KUBERNETES_REGISTRY ? `${imageRepository}/coredns` : imageRepository);
  const k8s = (name: ImageName, tag: string, pulledBy: ClusterImage['pulledBy']): ClusterImage => ({
    name,
    image: `${imageRepository}/${name}:${tag}`,
    upstream: `${KUBERNETES_REGISTRY}/${name}:${tag}`,
    pulledBy,
  });
  const flannel = (name: ImageName, upstream: string): ClusterImage => ({
    name,
    image: mirroredName(model.mirrors, upstream),
    upstream,
    pulledBy: 'every node',
  });
  return [
    k8s('kube-apiserver', version, 'control planes'),
    k8s('kube-controller-manager', version, 'control planes'),
    k8s('kube-scheduler', version, 'control planes'),
    k8s('kube-proxy', version, 'every node'),
    {
      name: 'coredns',
      image: `${dnsRepository}/coredns:${coredns}`,
      upstream: `${KUBERNETES_REGISTRY}/coredns/coredns:${coredns}`,
      pulledBy: 'nodes running coredns',
    },
    k8s('pause', pause, 'every node'),
    flannel('flannel', FLANNEL_RELEASE.image),
    flannel('flannel-cni-plugin', FLANNEL_RELEASE.cniPluginImage),
  ];
}

/** The reference the generated configs use for one image. */
export function imageOf(model: ClusterModel, name: ImageName): string {
  return clusterImages(model).find((i) => i.name === name)!.image;
}
