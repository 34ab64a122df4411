/**
 * kube-prometheus releases kubeha can install, kept as data: which Kubernetes minors each supports, and which one
 * each minor gets unless the inventory names another.
 *
 * Source: the "Compatibility" table of github.com/prometheus-operator/kube-prometheus README.md, read at each release
 * tag, taking the newest README that lists a release (later READMEs narrow older releases: v0.17.0's README drops
 * 1.31 from release-0.16, which v0.16.0's README listed). release-0.12 from v0.15.0's README, release-0.13 and
 * release-0.14 from v0.15.0's (v0.16.0's agrees for 1.29-1.31), release-0.15 from v0.17.0's, release-0.16 to
 * release-0.18 from main's (commit 4d719f1d, 2026-08-10). Each release has one tag (vX.Y.0): no patch releases exist.
 * Which release lists which minor is the version table's kubePrometheus column (kubernetes-versions.ts).
 */
import { KUBERNETES_MINORS } from './kubernetes-versions.js';

/** One kube-prometheus release, the Kubernetes minors its README says it supports, and its node_exporter's loopback port. */
export interface KubePrometheusRelease {
  version: string;
  /** From the version table's kubePrometheus column (kubernetes-versions.ts). */
  minors: readonly number[];
  /** The port node_exporter listens on at 127.0.0.1 (its --web.listen-address), behind kube-rbac-proxy. */
  exporterPort: 9100 | 9101;
}

/** Releases, oldest first (release-0.11 is left out: release-0.12 covers both its minors, 1.24 with it). */
export const KUBE_PROMETHEUS_RELEASES: readonly KubePrometheusRelease[] = (
  [
    { version: '0.12.0', exporterPort: 9100 },
    { version: '0.13.0', exporterPort: 9100 },
    { version: '0.14.0', exporterPort: 9100 },
    { version: '0.15.0', exporterPort: 9101 },
    { version: '0.16.0', exporterPort: 9101 },
    { version: '0.17.0', exporterPort: 9101 },
    { version: '0.18.0', exporterPort: 9101 },
  ] as const
).map((r) => ({ ...r, minors: KUBERNETES_MINORS.filter((m) => m.kubePrometheus.includes(r.version)).map((m) => m.minor) }));

/** The releases that support a Kubernetes minor, oldest first (none for a minor kubeha does not know). */
export function kubePrometheusReleasesFor(minor: number): string[] {
  return [...(KUBERNETES_MINORS.find((m) => m.minor === minor)?.kubePrometheus ?? [])];
}

/** The release a Kubernetes minor gets by default: the newest that supports it; undefined when none does. */
export function defaultKubePrometheusFor(minor: number): string | undefined {
  return kubePrometheusReleasesFor(minor).at(-1);
}

/** Whether kubeha knows a release and its README lists this Kubernetes minor. */
export function isCompatibleKubePrometheus(version: string, minor: number): boolean {
  return kubePrometheusReleasesFor(minor).includes(version);
}

/** The newest release kubeha knows, and the minors its README lists (for the reason a newer minor gets none). */
export function newestKubePrometheus(): KubePrometheusRelease {
  return KUBE_PROMETHEUS_RELEASES[KUBE_PROMETHEUS_RELEASES.length - 1]!;
}

/** The port kube-rbac-proxy of every release's node-exporter listens on, on the node's own address. */
export const NODE_EXPORTER_PROXY_PORT = 9100;

/**
 * The host ports a release's node-exporter DaemonSet listens on: it runs with hostNetwork on every Kubernetes node (it
 * tolerates every taint), kube-rbac-proxy on the node's address (the pod IP) and node_exporter on 127.0.0.1 (the same
 * port up to v0.14.0: two sockets of one port). Source: manifests/nodeExporter-daemonset.yaml at each release tag
 * (--secure-listen-address=[$(IP)]:9100, --web.listen-address=127.0.0.1:9100 in v0.12.0 to v0.14.0, 127.0.0.1:9101 from v0.15.0); no other manifest of
 * these releases uses hostNetwork or hostPort. Empty for a release kubeha does not know.
 */
export function kubePrometheusHostPorts(version: string): { port: number; what: string; on: 'address' | 'loopback' }[] {
  const release = KUBE_PROMETHEUS_RELEASES.find((r) => r.version === version);
  if (!release) return [];
  return [
    { port: NODE_EXPORTER_PROXY_PORT, what: 'kube-prometheus node-exporter (kube-rbac-proxy, hostNetwork)', on: 'address' },
    { port: release.exporterPort, what: 'kube-prometheus node_exporter (127.0.0.1, hostNetwork)', on: 'loopback' },
  ];
}

/** The upstream source tarball of a release (GitHub's archive of the tag; it unpacks to kube-prometheus-X.Y.Z/). */
export function kubePrometheusSourceUrl(version: string): string {
  return `https://github.com/prometheus-operator/kube-prometheus/archive/refs/tags/v${version}.tar.gz`;
}

/** The folder a release's source tarball unpacks to. */
export function kubePrometheusTopFolder(version: string): string {
  return `kube-prometheus-${version}`;
}
