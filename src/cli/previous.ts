/** Reads the version the previous output was made for: the first control plane's kubeadm-config.yaml in its tarball. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTarball } from '../bundle/untar.js';
import { InventoryError } from '../inventory/index.js';
import type { ClusterModel } from '../model/types.js';
import { recordedKubernetesVersion, versionChange, versionChangeProblems, type VersionChange } from '../model/upgrade.js';
import { KUBEADM_CONFIG_PATH } from '../render/kubeadm.js';

/** The Kubernetes version of `<out>/<first control plane>.tar.gz`, or null when there is none to read. */
export function previousKubernetesVersion(outDir: string, model: ClusterModel): string | null {
  const tarball = join(outDir, `${model.init.name}.tar.gz`);
  if (!existsSync(tarball)) return null;
  const config = readTarball(readFileSync(tarball), model.init.name).find((f) => f.path === `rootfs${KUBEADM_CONFIG_PATH}`);
  return config ? recordedKubernetesVersion(config.bytes.toString('utf8')) : null;
}

/** The version change from the previous output; throws InventoryError for a skipped minor or a downgrade. */
export function checkVersionChange(inventoryFile: string, outDir: string, model: ClusterModel): VersionChange {
  const change = versionChange(previousKubernetesVersion(outDir, model), model.cluster.kubernetesVersion);
  const problems = versionChangeProblems(change, `${outDir}/${model.init.name}.tar.gz`);
  if (problems.length) throw new InventoryError(inventoryFile, problems);
  return change;
}
