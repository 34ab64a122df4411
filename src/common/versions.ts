/** Versions kubeha knows how to build, and what each Kubernetes minor needs (read from the one table, kubernetes-versions.ts). */
import { atPatch, kubernetesMinor, SUPPORTED_MINORS, type KubeadmApi } from './kubernetes-versions.js';

export { SUPPORTED_MINORS } from './kubernetes-versions.js';

/** The kubeadm configuration API a Kubernetes minor reads. */
export function kubeadmApiFor(minor: number): KubeadmApi {
  return kubernetesMinor(minor).kubeadmApi;
}

/** The minor number of a `1.X.Y` version string. */
export function minorOf(version: string): number {
  return Number(version.split('.')[1]);
}

/** The patch number of a `1.X.Y` version string. */
export function patchOf(version: string): number {
  return Number(version.split('.')[2]);
}

/** Whether kubeha supports this Kubernetes minor. */
export function isSupportedMinor(minor: number): boolean {
  return minor >= SUPPORTED_MINORS.oldest && minor <= SUPPORTED_MINORS.newest;
}

/**
 * The oldest external etcd kubeadm accepts (its MinExternalEtcdVersion, checked by the ExternalEtcdVersion preflight
 * check against every endpoint's /version): for a `1.X.Y` version, the floor of that patch; for a minor alone, the
 * floor of its newest patch (the highest: the floors only rise with the patches).
 */
export function minExternalEtcdFor(version: string | number): string {
  if (typeof version === 'number') return atPatch(kubernetesMinor(version).minExternalEtcd);
  return atPatch(kubernetesMinor(minorOf(version)).minExternalEtcd, patchOf(version));
}

/** Compares two dotted numeric versions (`3.5.9` < `3.5.24`); negative, zero or positive like a sort comparator. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
