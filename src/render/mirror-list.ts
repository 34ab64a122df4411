/**
 * `gen artifacts`: the mirror list, what a mirror must hold for this inventory, after mirror rewriting: every file run.sh downloads
 * with its SHA-256, every package repository it configures, every image the cluster pulls. Read from the same
 * functions the renderers use, so the list cannot drift from the bundles. Pure. (In kubeha's code an "artifact" is a
 * file of a host's bundle, render/context.ts; what a mirror holds is a mirror list's entry, whatever the command is called.)
 */
import { etcdTarballs } from '../model/etcd-tarballs.js';
import { clusterImages, type ClusterImage } from '../model/images.js';
import { kubePrometheusTarball } from '../model/kube-prometheus-tarball.js';
import { kubePrometheusImages } from './kube-prometheus-images.js';
import type { ClusterModel } from '../model/types.js';
import { dockerRepositories, k8sAptKeyUrl, k8sYumKeyUrl, minorStream, pkgsK8sUrl } from './node-packages.js';
import { keyFingerprints, keySource, signingKeyOf, type PackageRepository } from './package-keys.js';
import { CRI_DOCKERD, criDockerdTarballs, usesDocker } from './runtime.js';

/** A file run.sh downloads and checks. */
export interface DownloadEntry {
  what: string;
  url: string;
  sha256: string;
  hosts: string;
}
/** A package repository run.sh configures, with its signing key (and the fingerprints run.sh checks it against, if any). */
export interface RepositoryEntry {
  what: string;
  format: 'deb' | 'rpm';
  url: string;
  key: string;
  fingerprints?: string[];
  hosts: string;
}
/** Everything a mirror must hold. */
export interface MirrorList {
  downloads: DownloadEntry[];
  repositories: RepositoryEntry[];
  images: ClusterImage[];
}

/** With addons.kubePrometheus: its source tarball, and the images its manifests name, by the name run.sh writes into them (their mirror's, with mirrors.registries). */
function kubePrometheusMirrorEntries(model: ClusterModel): { downloads: DownloadEntry[]; images: ClusterImage[] } {
  const t = kubePrometheusTarball(model);
  if (!t) return { downloads: [], images: [] };
  return {
    downloads: [{ what: `kube-prometheus v${t.version} source (manifests/)`, url: t.url, sha256: t.sha256, hosts: 'the first control plane' }],
    images: kubePrometheusImages(model).map(({ written, pulled, upstream }) => ({
      name: 'kube-prometheus',
      image: pulled === upstream ? written : pulled,
      upstream,
      pulledBy: 'nodes running kube-prometheus',
    })),
  };
}

/** A repository's key as the list shows it: the inventory's (armored or its URL) or the repository's own, with fingerprints. */
function keyOf(model: ClusterModel, repository: PackageRepository, own: string): Pick<RepositoryEntry, 'key' | 'fingerprints'> {
  const given =
    signingKeyOf(model, repository).armored !== undefined ? `${keySource(model, repository)} (armored in the inventory)` : keySource(model, repository);
  const fingerprints = keyFingerprints(model, repository);
  return { key: given ?? own, ...(fingerprints.length ? { fingerprints } : {}) };
}

/** The mirror list of a cluster. */
export function mirrorList(model: ClusterModel): MirrorList {
  const hasEtcd = model.etcd.members.length > 0;
  const etcd =
    hasEtcd && model.etcd.install === 'release'
      ? etcdTarballs(model.etcd.version, model.etcd.tarballs, model.mirrors).map(
          (t): DownloadEntry => ({ what: `etcd v${model.etcd.version} ${t.arch}`, url: t.url, sha256: t.sha256, hosts: 'etcd members' }),
        )
      : [];
  const criDockerd = usesDocker(model)
    ? criDockerdTarballs(model).map(
        (t): DownloadEntry => ({ what: `cri-dockerd v${CRI_DOCKERD.version} ${t.arch}`, url: t.url, sha256: t.sha256, hosts: 'Kubernetes nodes' }),
      )
    : [];
  const kube = `Kubernetes ${minorStream(model)} (kubelet, kubeadm, kubectl, cri-tools, kubernetes-cni)`;
  const docker = dockerRepositories(model);
  const addon = kubePrometheusMirrorEntries(model);
  const dockerWhat = usesDocker(model) ? 'docker-ce, docker-ce-cli, containerd.io' : 'containerd.io';
  return {
    downloads: [...etcd, ...criDockerd, ...addon.downloads],
    repositories: [
      { what: kube, format: 'deb', url: pkgsK8sUrl(model, 'deb'), ...keyOf(model, 'kubernetes', k8sAptKeyUrl(model)), hosts: 'Kubernetes nodes' },
      { what: kube, format: 'rpm', url: pkgsK8sUrl(model, 'rpm'), ...keyOf(model, 'kubernetes', k8sYumKeyUrl(model)), hosts: 'Kubernetes nodes' },
      // run.sh installs containerd.io from Docker's repository with either runtime (Debian's own containerd is too old).
      ...docker.deb.map(
        (d): RepositoryEntry => ({
          what: `${dockerWhat} for ${d.id}`,
          format: 'deb',
          url: d.url,
          ...keyOf(model, 'docker', d.key),
          hosts: `Kubernetes nodes on ${d.id} hosts`,
        }),
      ),
      { what: dockerWhat, format: 'rpm', url: docker.rpm.url, ...keyOf(model, 'docker', docker.rpm.key), hosts: 'Kubernetes nodes on RHEL-like hosts' },
    ],
    images: [...clusterImages(model), ...addon.images],
  };
}

/** The list as text: one line per item, the URL or image first (easy to cut), then what it is. */
export function describeMirrorList(list: MirrorList): string {
  return [
    'Downloads (run.sh checks each SHA-256):',
    ...list.downloads.map((d) => `  ${d.url}  sha256:${d.sha256}  (${d.what}; ${d.hosts})`),
    ...(list.downloads.length ? [] : ['  (none)']),
    '',
    'Package repositories (with their signing keys):',
    ...list.repositories.map(
      (r) => `  ${r.format} ${r.url}  key ${r.key}${r.fingerprints ? `  fingerprints ${r.fingerprints.join(' ')}` : ''}  (${r.what}; ${r.hosts})`,
    ),
    '',
    'Container images (as the generated configs name them; the upstream source after "<-" when it differs):',
    ...list.images.map((i) => `  ${i.image}${i.image === i.upstream ? '' : `  <- ${i.upstream}`}  (${i.name}; ${i.pulledBy})`),
    '',
    "Other packages (haproxy, keepalived, curl, conntrack, ...) come from each host's own distribution repositories.",
    '',
  ].join('\n');
}

/** The mirror list's old name, still used by e2e/cluster (the lead's area): use MirrorList. */
export type ArtifactList = MirrorList;
