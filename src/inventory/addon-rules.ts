/** Named rules about inventory `addons`: a kube-prometheus release that supports the Kubernetes version, and its checksum. */
import {
  defaultKubePrometheusFor,
  KUBE_PROMETHEUS_RELEASES,
  kubePrometheusReleasesFor,
  kubePrometheusSourceUrl,
  newestKubePrometheus,
} from '../common/kube-prometheus-releases.js';
import { minorOf } from '../common/versions.js';
import type { Problem } from './problems.js';
import type { Rule } from './rules.js';
import type { Inventory } from './types.js';

const error = (path: string, message: string): Problem => ({ pointer: path, message, severity: 'error' });
const ADDON = '/addons/kubePrometheus';

/** `1.33, 1.34, 1.35`: Kubernetes minors as a README's compatibility table names them. */
function minorList(minors: readonly number[]): string {
  return minors.map((m) => `1.${m}`).join(', ');
}

/** Why the inventory's kube-prometheus release cannot run on its Kubernetes version, or null. */
function releaseProblem(inv: Inventory): Problem | null {
  const minor = minorOf(inv.cluster.kubernetesVersion);
  const given = inv.addons.kubePrometheus.version;
  const fitting = kubePrometheusReleasesFor(minor);
  if (given === undefined) {
    return defaultKubePrometheusFor(minor)
      ? null
      : error(
          '/cluster/kubernetesVersion',
          `no kube-prometheus release kubeha knows supports Kubernetes 1.${minor} (the compatibility table of the newest, ${newestKubePrometheus().version}, lists ${minorList(newestKubePrometheus().minors)}): turn addons.kubePrometheus off`,
        );
  }
  const choice = fitting.length
    ? `use one of ${fitting.join(', ')} (or leave version out for ${defaultKubePrometheusFor(minor)})`
    : 'turn addons.kubePrometheus off';
  const release = KUBE_PROMETHEUS_RELEASES.find((r) => r.version === given);
  if (!release)
    return error(
      `${ADDON}/version`,
      `kubeha knows no kube-prometheus release ${given} (it knows ${KUBE_PROMETHEUS_RELEASES.map((r) => r.version).join(', ')}): ${choice}`,
    );
  if (fitting.includes(given)) return null;
  return error(
    `${ADDON}/version`,
    `kube-prometheus ${given} does not support Kubernetes ${inv.cluster.kubernetesVersion} (its compatibility table lists ${minorList(release.minors)}): ${choice}`,
  );
}

/** The addon rules, in the order they report. */
export const addonRules: readonly Rule[] = [
  {
    name: 'kube-prometheus release for the Kubernetes version',
    check: (inv) => {
      const problem = inv.addons.kubePrometheus.enabled ? releaseProblem(inv) : null;
      return problem ? [problem] : [];
    },
  },
  {
    name: 'kube-prometheus tarball checksum',
    check: (inv) => {
      const addon = inv.addons.kubePrometheus;
      if (!addon.enabled || addon.sha256 !== undefined) return [];
      const url = kubePrometheusSourceUrl(addon.version ?? defaultKubePrometheusFor(minorOf(inv.cluster.kubernetesVersion)) ?? 'VERSION');
      return [
        error(
          ADDON,
          `must have sha256 when enabled: GitHub publishes no checksum of ${url}; get it with curl -fsSL ${url} | sha256sum and check it against a trusted clone (docs/operations.md, "kube-prometheus")`,
        ),
      ];
    },
  },
];
