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
