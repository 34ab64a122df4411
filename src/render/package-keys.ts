/**
 * The signing keys of the package repositories (inventory mirrors.kubernetesPackagesKey, dockerPackagesKey): where
 * run.sh takes each key from, the fingerprints it checks with gpg before trusting it, and the armored keys the bundle
 * ships. Without a key in the inventory, each repository's own key is fetched as before. Pure.
 */
import { createHash } from 'node:crypto';
import type { SigningKey } from '../inventory/types.js';
import { dockerPackagesBase, kubernetesPackagesBase } from '../model/mirrors.js';
import type { ClusterModel } from '../model/types.js';
import type { Artifact } from './context.js';

/** A package repository kubeha configures. */
export type PackageRepository = 'kubernetes' | 'docker';

/** Where the bundle ships an armored key the inventory gives (the packages phase reads it from the bundle). */
export const SHIPPED_KEY_PATHS: Readonly<Record<PackageRepository, string>> = {
  kubernetes: '/etc/kubeha/keys/kubernetes-packages.asc',
  docker: '/etc/kubeha/keys/docker-packages.asc',
};

/** Where RHEL-like hosts keep a checked key, which the .repo file's gpgkey then names (file://). */
export const RPM_KEY_PATHS: Readonly<Record<PackageRepository, string>> = {
  kubernetes: '/etc/pki/rpm-gpg/kubeha-kubernetes.asc',
  docker: '/etc/pki/rpm-gpg/kubeha-docker.asc',
};

/** The inventory's key of a repository ({} when it gives none). */
export function signingKeyOf(model: ClusterModel, repository: PackageRepository): SigningKey {
  return (repository === 'kubernetes' ? model.mirrors.kubernetesPackagesKey : model.mirrors.dockerPackagesKey) ?? {};
}

/** The fingerprints run.sh accepts, as gpg prints them: 40 uppercase hexadecimal digits without spaces. */
export function keyFingerprints(model: ClusterModel, repository: PackageRepository): string[] {
  return (signingKeyOf(model, repository).fingerprints ?? []).map((f) => f.replace(/ /g, '').toUpperCase());
}

/** Whether the key is pinned by the inventory (fingerprints or the key itself): run.sh then installs a checked copy. */
export function keyIsPinned(model: ClusterModel, repository: PackageRepository): boolean {
  const key = signingKeyOf(model, repository);
  return key.fingerprints !== undefined || key.armored !== undefined;
}

/** Where run.sh takes the key from when the inventory says: the shipped armored key or the inventory's URL; null: the repository's own. */
export function keySource(model: ClusterModel, repository: PackageRepository): string | null {
  const key = signingKeyOf(model, repository);
  if (key.armored !== undefined) return SHIPPED_KEY_PATHS[repository];
  return key.url ?? null;
}

/**
 * A comment naming the inventory's key, written first in the apt source list or dnf .repo file: a new key changes
 * the file, and run.sh installs the key again. Empty without one (the files keep their upstream form).
 */
export function keyComment(model: ClusterModel, repository: PackageRepository): string {
  const key = signingKeyOf(model, repository);
  const parts = [
    ...(key.armored !== undefined ? [`the key in the bundle (SHA-256 ${createHash('sha256').update(key.armored).digest('hex')})`] : []),
    ...(key.url !== undefined ? [`the key from ${key.url}`] : []),
    ...(key.fingerprints !== undefined ? [`fingerprints ${keyFingerprints(model, repository).join(' ')}`] : []),
  ];
  return parts.length ? `# signing key (kubeha): ${parts.join(', ')}` : '';
}

/** run.sh's warning when a repository is served over plain HTTP (gen refuses it unless the key is pinned or comes over https), or null. */
export function plainHttpWarning(model: ClusterModel, repository: PackageRepository): string | null {
  const base = repository === 'kubernetes' ? kubernetesPackagesBase(model.mirrors) : dockerPackagesBase(model.mirrors);
  if (!base.startsWith('http://')) return null;
  return `${base} serves packages over plain HTTP: they are checked against the signing key, but anyone on the path sees what this host installs and can hold back updates; prefer https`;
}

/** The armored keys the inventory gives, shipped to every Kubernetes node. */
export const packageKeyArtifacts: readonly Artifact[] = (['kubernetes', 'docker'] as const).map(
  (repository): Artifact => ({
    path: SHIPPED_KEY_PATHS[repository],
    mode: 0o644,
    when: (host, model) => host.isKubernetesNode && signingKeyOf(model, repository).armored !== undefined,
    render: (ctx) => `${signingKeyOf(ctx.model, repository).armored!.trimEnd()}\n`,
    sameOnEveryHost: true,
  }),
);
