/**
 * Reads the Kubernetes version the previous output was made for, from any bundle of a Kubernetes node in it (the
 * first control plane's kubeadm-config.yaml, or any node's run.sh), and refuses a change kubeadm cannot make.
 */
import { InventoryError } from '../inventory/index.js';
import type { ClusterModel } from '../model/types.js';
import type { Problem } from '../inventory/index.js';
import {
  proxyModeChangeProblems,
  recordedKubeProxyMode,
  recordedKubernetesVersion,
  recordedTargetVersion,
  unknownVersionProblems,
  versionChange,
  versionChangeProblems,
  type VersionChange,
} from '../model/upgrade.js';
import { KUBEADM_CONFIG_PATH } from '../index.js';
import { tarballName } from '../common/output-layout.js';
import type { TarEntry } from '../bundle/untar.js';
import { bundleNames, isKubehaBundle, readPreviousBundle } from './previous-output.js';

/** The version the previous output was made for and the bundle it was read from, or why it cannot be told. */
export type PreviousVersion = { version: string; source: string } | { version: null; unreadable: string[] };

/** The version a bundle's entries record: kubeadm-config.yaml's kubernetesVersion (first control plane) or run.sh's target. */
function versionOf(entries: readonly TarEntry[]): string | null {
  const text = (path: string) => entries.find((e) => e.path === path && e.type === 'file')?.bytes.toString('utf8');
  const config = text(`rootfs${KUBEADM_CONFIG_PATH}`);
  const fromConfig = config === undefined ? null : recordedKubernetesVersion(config);
  const runSh = text('run.sh');
  return fromConfig ?? (runSh === undefined ? null : recordedTargetVersion(runSh));
}

/**
 * The Kubernetes version of the previous output in `outDir`: read from the first bundle that records one, the
 * inventory's Kubernetes nodes first (the first control plane first), then every other bundle there. A bundle of one
 * of the inventory's hosts that cannot be read, or a Kubernetes node's that records no version, is reported when no
 * bundle tells the version. No bundle at all: a new installation.
 */
export function previousKubernetesVersion(outDir: string, model: ClusterModel): PreviousVersion {
  const nodes = [model.init, ...model.hosts.filter((h) => (h.isControlPlane || h.isWorker) && !h.isInit)];
  const inventory = new Map(model.hosts.map((h) => [h.name, h]));
  const unreadable: string[] = [];
  for (const host of new Set([...nodes.map((h) => h.name), ...bundleNames(outDir)])) {
    const bundle = readPreviousBundle(outDir, host);
    if (bundle === null) continue;
    const source = `${outDir}/${tarballName(host)}`;
    const version = isKubehaBundle(bundle) ? versionOf(bundle.entries) : null;
    if (version) return { version, source };
    const of = inventory.get(host);
    if (!of) continue;
    if ('problem' in bundle) unreadable.push(`${source}: ${bundle.problem}`);
    else if (!isKubehaBundle(bundle)) unreadable.push(`${source}: not a bundle kubeha made for ${host}`);
    else if (of.isControlPlane || of.isWorker) unreadable.push(`${source}: records no Kubernetes version`);
  }
  return { version: null, unreadable };
}

/**
 * The version change from the previous output; throws InventoryError for a skipped minor, a downgrade, or a previous
 * output whose version cannot be told. `force` (--force-version-change) lets any change through, saying so via `warn`.
 */
export function checkVersionChange(inventoryFile: string, outDir: string, model: ClusterModel, force = false, warn?: (text: string) => void): VersionChange {
  const previous = previousKubernetesVersion(outDir, model);
  const change = versionChange(previous.version, model.cluster.kubernetesVersion);
  const problems =
    previous.version === null
      ? previous.unreadable.length
        ? unknownVersionProblems(outDir, previous.unreadable)
        : []
      : versionChangeProblems(change, previous.source);
  if (problems.length && !force) throw new InventoryError(inventoryFile, problems);
  if (problems.length) {
    const why = previous.version === null ? `the Kubernetes version of ${outDir} cannot be read` : problems[0]!.message;
    warn?.(`warning: --force-version-change: going ahead although ${why}\n`);
  }
  return change;
}

/** Warnings about the previous output in `outDir`: its first control plane's kube-proxy mode, when the inventory changes it. */
export function previousOutputWarnings(outDir: string, model: ClusterModel): Problem[] {
  const bundle = readPreviousBundle(outDir, model.init.name);
  if (!isKubehaBundle(bundle)) return [];
  const config = bundle.entries.find((e) => e.path === `rootfs${KUBEADM_CONFIG_PATH}` && e.type === 'file')?.bytes.toString('utf8');
  const mode = config === undefined ? null : recordedKubeProxyMode(config);
  return proxyModeChangeProblems(mode, model, `${outDir}/${tarballName(model.init.name)}`);
}
