/** Versions kubeha knows how to build, and what each Kubernetes minor needs. */

/** The oldest and newest Kubernetes minor kubeha supports (pkgs.k8s.io starts at 1.24). */
export const SUPPORTED_MINORS = { oldest: 24, newest: 36 } as const;

/** The kubeadm configuration API a Kubernetes minor reads: v1beta3 up to 1.30, v1beta4 from 1.31. */
export function kubeadmApiFor(minor: number): 'kubeadm.k8s.io/v1beta3' | 'kubeadm.k8s.io/v1beta4' {
  return minor >= 31 ? 'kubeadm.k8s.io/v1beta4' : 'kubeadm.k8s.io/v1beta3';
}

/** The minor number of a `1.X.Y` version string. */
export function minorOf(version: string): number {
  return Number(version.split('.')[1]);
}

/** Whether kubeha supports this Kubernetes minor. */
export function isSupportedMinor(minor: number): boolean {
  return minor >= SUPPORTED_MINORS.oldest && minor <= SUPPORTED_MINORS.newest;
}

/** A table by Kubernetes minor: each version holds from its minor until the next key (integer keys iterate in order). */
export type ByMinor = Readonly<Record<number, string>>;

/** The version of the highest minor in `table` at or below `minor`; an error names `what` below the lowest. */
export function versionForMinor(table: ByMinor, minor: number, what: string): string {
  const from = Object.keys(table)
    .map(Number)
    .filter((m) => m <= minor);
  if (from.length === 0) throw new Error(`no ${what} version known for Kubernetes 1.${minor}`);
  return table[Math.max(...from)]!;
}

/**
 * The oldest external etcd kubeadm's preflight accepts, by the first Kubernetes minor it applies to (kubeadm's
 * `MinExternalEtcdVersion`, checked by its ExternalEtcdVersion preflight check against every endpoint's /version).
 * Sources, cmd/kubeadm/app/constants/constants.go: "3.2.18" from 1.13 through 1.23 (seen in 1.21 and 1.23 trees,
 * where SupportedEtcdVersion maps 22-23 to 3.5.1-0); "3.5.24-0" in the release-1.32 tree (SupportedEtcdVersion
 * 29-32) and on master (etcd's "Bump etcd Version in Kubernetes" guide shows it beside DefaultEtcdVersion 3.6.x).
 * Minors in between keep the older floor: no tree of them was found, and kubeadm 1.24-1.31 shipped etcd 3.5.x.
 */
export const MIN_EXTERNAL_ETCD: ByMinor = { 13: '3.2.18', 32: '3.5.24' };

/** The oldest external etcd kubeadm accepts for a Kubernetes minor. */
export function minExternalEtcdFor(minor: number): string {
  return versionForMinor(MIN_EXTERNAL_ETCD, minor, 'external etcd');
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
