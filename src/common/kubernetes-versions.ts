/**
 * The one table of what kubeha knows per Kubernetes minor, in the spirit of Talos' versioned contract
 * (pkg/machinery/config/contract): everything that varies with the minor is read from its row, so supporting a new
 * minor is one row here (plus the goldens and tests that name it). docs/inventory.md prints the table.
 *
 * Sources, per column:
 * - kubeadmApi, minExternalEtcd, pause, coredns: kubeadm's cmd/kubeadm/app/constants/constants.go (MinExternalEtcdVersion,
 *   PauseVersion, CoreDNSVersion) and cmd/kubeadm/app/util/config/common.go (validateSupportedVersion) of the
 *   k8s.io/kubernetes module at the first and the last patch of every minor (v1.X.0 and v1.24.17, v1.25.16, v1.26.15,
 *   v1.27.16, v1.28.15, v1.29.14, v1.30.14, v1.31.14, v1.32.13, v1.33.13, v1.34.4, v1.35.4, v1.36.3, v1.37.2), and
 *   where they differ at the patches around the change: CoreDNS v1.11.3 from v1.30.5 and v1.31.1, the etcd floor 3.5.24
 *   from v1.31.14, v1.32.10, v1.33.6 and v1.34.2 ("updated the supported etcd version to v3.5.24", CHANGELOG-1.3X.md).
 *   kubeadm 1.37 removed v1beta3 ("Please use kubeadm v1.36") and has an experimental v1 it refuses without
 *   --allow-experimental-api: v1beta4 stays.
 * - containerd: the oldest containerd.io run.sh accepts, from containerd's RELEASES.md "Kubernetes support" table
 *   (containerd/containerd#9879: 1.24-1.25 1.6.4+, 1.26-1.28 1.6.15+, 1.29 1.6.27+, 1.30 1.6.28+; #10600: 1.31 1.7.20+;
 *   at 301026e5: 1.35 "2.2.0+, 2.1.5+, 1.7.28+", 1.36 "2.3.0+, 2.2.0+"), never lower than the minor before. 1.37 has no
 *   row there yet: 1.36's floor holds (its kubelet still falls back for containerd 1.7, CHANGELOG-1.37.md: "Deferred
 *   ... from v1.37 to v1.38 to align with containerd v1.7 support").
 * - kubeProxyModes, ipvsDeprecated, defaultKubeProxyMode: nftables alpha in 1.29, beta from 1.31, GA from 1.33 (KEP-3866,
 *   keps/sig-network/3866-nftables-proxy/kep.yaml: alpha v1.29, beta v1.31, stable v1.33); ipvs deprecated from 1.35
 *   (1.37's kube-proxy: "will be disabled by default in Kubernetes 1.40 and removed in Kubernetes 1.43", feature gate
 *   KubeProxyIPVS, still on). kube-proxy's own default stays iptables; kubeha's is nftables where it is GA, iptables
 *   before (a beta mode is not a default for clusters that last).
 * - cgroupV1Refused: the kubelet's failCgroupV1 defaults to true and kubeadm's SystemVerification fails on cgroup v1
 *   from 1.35 (pkg/kubelet/apis/config/v1beta1/defaults.go; still so in v1.37.2).
 * - kubePrometheus: the releases whose README "Compatibility" table lists the minor (see kube-prometheus-releases.ts
 *   for which README), oldest first; the last is the default. No release lists 1.37 (v0.18.0's and main's README, at
 *   4d719f1d, end at 1.36): the addon is refused on 1.37.
 * - endOfLife: kubernetes.io/releases (data/releases/eol.yaml for ended minors, each minor's page for the others).
 */

/** A kubeadm configuration API version. */
export type KubeadmApi = 'kubeadm.k8s.io/v1beta3' | 'kubeadm.k8s.io/v1beta4';

/** A kube-proxy mode. */
export type KubeProxyMode = 'ipvs' | 'iptables' | 'nftables';

/** A value for every patch of a minor, or by the first patch it holds from (`{ 0: '3.5.11', 10: '3.5.24' }`). */
export type PerPatch = string | Readonly<Record<number, string>>;

/** What kubeha knows of one Kubernetes minor. */
export interface KubernetesMinor {
  minor: number;
  /** The pkgs.k8s.io package stream (its /v1.XX/deb/ and /v1.XX/rpm/ repositories). */
  packages: string;
  kubeadmApi: KubeadmApi;
  /** kubeadm's MinExternalEtcdVersion (without the image's `-0` suffix): its preflight refuses an older external etcd. */
  minExternalEtcd: PerPatch;
  /** kubeadm's PauseVersion: the sandbox image tag. */
  pause: string;
  /** kubeadm's CoreDNSVersion: the coredns image tag. */
  coredns: PerPatch;
  /** The oldest containerd run.sh accepts (an older one is replaced by containerd.io). */
  containerd: string;
  kubeProxyModes: readonly KubeProxyMode[];
  /** The mode of an inventory that sets no cluster.kubeProxyMode. */
  defaultKubeProxyMode: KubeProxyMode;
  ipvsDeprecated: boolean;
  /** The kubelet refuses cgroup v1 by default (failCgroupV1) and kubeadm's preflight fails on it. */
  cgroupV1Refused: boolean;
  /** kube-prometheus releases (without the v) whose compatibility table lists this minor, oldest first. */
  kubePrometheus: readonly string[];
  /** The upstream end of life, YYYY-MM-DD. */
  endOfLife: string;
}

const OLD_MODES: readonly KubeProxyMode[] = ['ipvs', 'iptables'];
const MODES: readonly KubeProxyMode[] = ['ipvs', 'iptables', 'nftables'];
const V3 = 'kubeadm.k8s.io/v1beta3';
const V4 = 'kubeadm.k8s.io/v1beta4';

/** One row: the columns every minor shares, and what this one sets. */
function row(
  minor: number,
  facts: Omit<KubernetesMinor, 'minor' | 'packages' | 'defaultKubeProxyMode' | 'ipvsDeprecated' | 'cgroupV1Refused'> & Partial<KubernetesMinor>,
) {
  return {
    minor,
    packages: `v1.${minor}`,
    defaultKubeProxyMode: 'iptables',
    ipvsDeprecated: false,
    cgroupV1Refused: false,
    ...facts,
  } satisfies KubernetesMinor;
}

/** Every minor kubeha supports, oldest first, without gaps. */
// biome-ignore format: one row per minor, so that adding a minor is adding a line
export const KUBERNETES_MINORS: readonly KubernetesMinor[] = [
  row(24, { kubeadmApi: V3, minExternalEtcd: '3.2.18', pause: '3.7', coredns: 'v1.8.6', containerd: '1.6.4', kubeProxyModes: OLD_MODES, kubePrometheus: ['0.12.0'], endOfLife: '2023-07-28' }),
  row(25, { kubeadmApi: V3, minExternalEtcd: '3.2.18', pause: '3.8', coredns: 'v1.9.3', containerd: '1.6.4', kubeProxyModes: OLD_MODES, kubePrometheus: ['0.12.0'], endOfLife: '2023-10-28' }),
  row(26, { kubeadmApi: V3, minExternalEtcd: '3.2.18', pause: '3.9', coredns: 'v1.9.3', containerd: '1.6.15', kubeProxyModes: OLD_MODES, kubePrometheus: ['0.13.0', '0.14.0'], endOfLife: '2024-02-28' }),
  row(27, { kubeadmApi: V3, minExternalEtcd: '3.2.18', pause: '3.9', coredns: 'v1.10.1', containerd: '1.6.15', kubeProxyModes: OLD_MODES, kubePrometheus: ['0.13.0', '0.14.0'], endOfLife: '2024-07-16' }),
  row(28, { kubeadmApi: V3, minExternalEtcd: '3.4.13', pause: '3.9', coredns: 'v1.10.1', containerd: '1.6.15', kubeProxyModes: OLD_MODES, kubePrometheus: ['0.13.0', '0.14.0'], endOfLife: '2024-10-22' }),
  row(29, { kubeadmApi: V3, minExternalEtcd: '3.4.13', pause: '3.9', coredns: 'v1.11.1', containerd: '1.6.27', kubeProxyModes: OLD_MODES, kubePrometheus: ['0.14.0'], endOfLife: '2025-02-28' }),
  row(30, { kubeadmApi: V3, minExternalEtcd: '3.4.13', pause: '3.9', coredns: { 0: 'v1.11.1', 5: 'v1.11.3' }, containerd: '1.6.28', kubeProxyModes: OLD_MODES, kubePrometheus: ['0.14.0'], endOfLife: '2025-07-15' }),
  row(31, { kubeadmApi: V4, minExternalEtcd: { 0: '3.5.11', 14: '3.5.24' }, pause: '3.10', coredns: { 0: 'v1.11.1', 1: 'v1.11.3' }, containerd: '1.7.20', kubeProxyModes: MODES, kubePrometheus: ['0.14.0', '0.15.0'], endOfLife: '2025-11-11' }),
  row(32, { kubeadmApi: V4, minExternalEtcd: { 0: '3.5.11', 10: '3.5.24' }, pause: '3.10', coredns: 'v1.11.3', containerd: '1.7.20', kubeProxyModes: MODES, kubePrometheus: ['0.15.0', '0.16.0'], endOfLife: '2026-02-28' }),
  row(33, { kubeadmApi: V4, minExternalEtcd: { 0: '3.5.11', 6: '3.5.24' }, pause: '3.10', coredns: 'v1.12.0', containerd: '1.7.20', kubeProxyModes: MODES, defaultKubeProxyMode: 'nftables', kubePrometheus: ['0.15.0', '0.16.0', '0.17.0', '0.18.0'], endOfLife: '2026-06-28' }),
  row(34, { kubeadmApi: V4, minExternalEtcd: { 0: '3.5.21', 2: '3.5.24' }, pause: '3.10.1', coredns: 'v1.12.1', containerd: '1.7.20', kubeProxyModes: MODES, defaultKubeProxyMode: 'nftables', kubePrometheus: ['0.16.0', '0.17.0', '0.18.0'], endOfLife: '2026-10-27' }),
  row(35, { kubeadmApi: V4, minExternalEtcd: '3.5.24', pause: '3.10.1', coredns: 'v1.13.1', containerd: '1.7.28', kubeProxyModes: MODES, defaultKubeProxyMode: 'nftables', ipvsDeprecated: true, cgroupV1Refused: true, kubePrometheus: ['0.17.0', '0.18.0'], endOfLife: '2027-02-28' }),
  row(36, { kubeadmApi: V4, minExternalEtcd: '3.5.24', pause: '3.10.2', coredns: 'v1.14.2', containerd: '2.2.0', kubeProxyModes: MODES, defaultKubeProxyMode: 'nftables', ipvsDeprecated: true, cgroupV1Refused: true, kubePrometheus: ['0.18.0'], endOfLife: '2027-06-28' }),
  row(37, { kubeadmApi: V4, minExternalEtcd: '3.5.24', pause: '3.10.2', coredns: 'v1.14.6', containerd: '2.2.0', kubeProxyModes: MODES, defaultKubeProxyMode: 'nftables', ipvsDeprecated: true, cgroupV1Refused: true, kubePrometheus: [], endOfLife: '2027-10-28' }),
];

/** The oldest and newest Kubernetes minor kubeha supports (pkgs.k8s.io starts at 1.24). */
export const SUPPORTED_MINORS = { oldest: KUBERNETES_MINORS[0]!.minor, newest: KUBERNETES_MINORS[KUBERNETES_MINORS.length - 1]!.minor } as const;

/** The row of a minor; an error names the supported range (the inventory rules refuse other minors first). */
export function kubernetesMinor(minor: number): KubernetesMinor {
  const found = KUBERNETES_MINORS.find((m) => m.minor === minor);
  if (!found) throw new Error(`kubeha knows nothing of Kubernetes 1.${minor}: it supports 1.${SUPPORTED_MINORS.oldest} to 1.${SUPPORTED_MINORS.newest}`);
  return found;
}

/** The value at a patch: the entry of the highest first patch at or below it; without a patch, the newest patch's. */
export function atPatch(value: PerPatch, patch?: number): string {
  if (typeof value === 'string') return value;
  const from = Object.keys(value)
    .map(Number)
    .filter((p) => patch === undefined || p <= patch);
  return value[Math.max(...from)]!;
}

/** The first minor whose row satisfies a test (for statements such as "deprecated since 1.35"). */
export function firstMinorWhere(test: (m: KubernetesMinor) => boolean): number | undefined {
  return KUBERNETES_MINORS.find(test)?.minor;
}
