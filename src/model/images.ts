/**
 * The one list of container images the cluster pulls (control plane, kube-proxy, coredns, pause, flannel), with the
 * name every generated config writes (after mirrors.registries) and the upstream name a mirror is filled from.
 * kubeadm-config.yaml, containerd's and cri-dockerd's sandbox image, the flannel manifest and `gen artifacts` all read it.
 */
import { atPatch, kubernetesMinor } from '../common/kubernetes-versions.js';
import { minorOf, patchOf } from '../common/versions.js';
import type { ClusterModel } from './types.js';
import { mirroredName } from './mirrors.js';

/** kubeadm's default image registry. */
export const KUBERNETES_REGISTRY = 'registry.k8s.io';

/** The pause (sandbox) and CoreDNS image tags kubeadm of a Kubernetes version uses (the version table's columns). */
export function kubeadmImageTags(kubernetesVersion: string): { pause: string; coredns: string } {
  const row = kubernetesMinor(minorOf(kubernetesVersion));
  return { pause: row.pause, coredns: atPatch(row.coredns, patchOf(kubernetesVersion)) };
}

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
  const { coredns, pause } = kubeadmImageTags(model.cluster.kubernetesVersion);
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
