/**
 * Version changes between the previous output and the inventory, decided purely: the cli reads the version the previous
 * bundles were made for (their kubeadm-config.yaml), this module says whether the change is allowed and what it means.
 */
import type { Problem } from '../inventory/problems.js';
import type { ClusterModel } from './types.js';
import { compareVersions, minExternalEtcdFor, minorOf } from '../common/versions.js';

/** What moving the cluster from `from` (null: no previous output) to `to` means. */
export interface VersionChange {
  kind: 'install' | 'none' | 'patch' | 'minor' | 'skip' | 'downgrade';
  from: string | null;
  to: string;
}

/** Classifies a change of the Kubernetes version. */
export function versionChange(from: string | null, to: string): VersionChange {
  if (from === null) return { kind: 'install', from, to };
  const order = compareVersions(to, from);
  if (order === 0) return { kind: 'none', from, to };
  if (order < 0) return { kind: 'downgrade', from, to };
  const minors = minorOf(to) - minorOf(from);
  return { kind: minors === 0 ? 'patch' : minors === 1 ? 'minor' : 'skip', from, to };
}

/** The problems of a change (a skipped minor, a downgrade), at the inventory's kubernetesVersion. */
export function versionChangeProblems(change: VersionChange, previousOutput: string): Problem[] {
  const at = '/cluster/kubernetesVersion';
  const made = `the previous output (${previousOutput}) was made for Kubernetes ${change.from}`;
  if (change.kind === 'downgrade') {
    return [{ pointer: at, severity: 'error', message: `${made}: kubeadm cannot downgrade a cluster to ${change.to}; keep ${change.from} or move up` }];
  }
  if (change.kind === 'skip') {
    const next = `1.${minorOf(change.from!) + 1}`;
    return [
      {
        pointer: at,
        severity: 'error',
        message: `${made}: ${change.to} skips ${next}; kubeadm upgrades one minor version at a time: set ${next}.x, generate and run every bundle, then go on`,
      },
    ];
  }
  return [];
}

/**
 * The problem when the previous output holds bundles of the inventory's hosts but none tells the Kubernetes version
 * they were made for (`unreadable`: each such bundle and why), so that a skipped minor or a downgrade cannot be seen.
 */
export function unknownVersionProblems(previousOutput: string, unreadable: readonly string[]): Problem[] {
  return [
    {
      pointer: '/cluster/kubernetesVersion',
      severity: 'error',
      message:
        `the previous output (${previousOutput}) holds bundles of this inventory's hosts, but none tells the Kubernetes version they were made for ` +
        `(${unreadable.join('; ')}), so kubeha cannot refuse a skipped minor or a downgrade: restore them from a backup, or, if you know the ` +
        'cluster runs at most one minor below this version (or is new), generate with --force-version-change',
    },
  ];
}

/** The Kubernetes version a Kubernetes node's run.sh installs (its `KUBE_TARGET=1.34.2` line), or null. */
export function recordedTargetVersion(runSh: string): string | null {
  return /^\s*KUBE_TARGET=v?(\d+\.\d+\.\d+)$/m.exec(runSh)?.[1] ?? null;
}

/** The kubernetesVersion a kubeadm-config.yaml records (`kubernetesVersion: v1.34.2` of its ClusterConfiguration), or null. */
export function recordedKubernetesVersion(kubeadmConfig: string): string | null {
  return /^kubernetesVersion: v?(\d+\.\d+\.\d+)$/m.exec(kubeadmConfig)?.[1] ?? null;
}

/** The kube-proxy mode a kubeadm-config.yaml records (its KubeProxyConfiguration's mode), or null. */
export function recordedKubeProxyMode(kubeadmConfig: string): string | null {
  return /^kind: KubeProxyConfiguration\nmode: ([a-z]+)$/m.exec(kubeadmConfig)?.[1] ?? null;
}

/**
 * A warning when the previous output runs kube-proxy in another mode than the inventory gives: kube-proxy switches at
 * the next upgrade (its addon is applied again from this config) and new nodes are prepared for the new mode only. It
 * names the way to keep the running mode: an unset mode follows the version (it was ipvs before kubeha followed upstream).
 */
export function proxyModeChangeProblems(previous: string | null, model: ClusterModel, previousOutput: string): Problem[] {
  const mode = model.cluster.kubeProxyMode;
  if (previous === null || previous === mode) return [];
  const message =
    `the previous output (${previousOutput}) runs kube-proxy in ${previous} mode and this inventory gives ${mode} ` +
    `(an unset mode follows the Kubernetes version: nftables from 1.33, iptables before; it used to be ipvs): kube-proxy ` +
    `switches to ${mode} at the next upgrade and new nodes are prepared for ${mode} only; to keep the running mode, set cluster.kubeProxyMode: ${previous}`;
  return [{ pointer: '/cluster/kubeProxyMode', severity: 'warning', message }];
}

/** The upgrade order when one is pending (patch or minor), as plan lines; none otherwise. */
export function describeUpgrade(model: ClusterModel, change: VersionChange): string[] {
  if (change.kind !== 'patch' && change.kind !== 'minor') return [];
  const workers = model.hosts.filter((h) => h.isWorker && !h.isControlPlane).map((h) => h.name);
  const others = model.controlPlanes.filter((h) => !h.isInit);
  const last = model.controlPlanes[model.controlPlanes.length - 1]!;
  const each = `drain, kubelet and kubectl ${change.to}, Ready at v${change.to}, uncordon`;
  const addons = (h: { name: string }) => (h.name === last.name ? '; kube-proxy and CoreDNS (every API server is new now)' : '');
  return [
    '',
    `Upgrade pending: Kubernetes ${change.from} -> ${change.to} (${change.kind}); every etcd member must run ${minExternalEtcdFor(model.cluster.kubernetesVersion)} or later (kubeadm leaves an external etcd alone).`,
    "Run the Kubernetes nodes' bundles in this order, one control plane at a time (each waits, bounded, for the API servers before it):",
    `  1. ${model.init.name}: kubeadm upgrade plan, kubeadm upgrade apply v${change.to}${addons(model.init)}; ${each}`,
    ...others.map((h, i) => `  ${i + 2}. ${h.name}: kubeadm upgrade node${addons(h)}; ${each}`),
    ...(workers.length ? [`  ${others.length + 2}. workers, a few at a time (each drains itself with its kubelet's credentials): ${workers.join(', ')}`] : []),
  ];
}
