/** The kube-prometheus source tarball run.sh downloads: the release for the cluster, through mirrors.files, with the inventory's SHA-256. Pure. */
import { defaultKubePrometheusFor, kubePrometheusSourceUrl, kubePrometheusTopFolder } from '../common/kube-prometheus-releases.js';
import { fileUrl } from './mirrors.js';
import type { ClusterModel } from './types.js';

/** One release's source tarball: where run.sh gets it, the name it keeps it under, the folder inside, its checksum. */
export interface KubePrometheusTarball {
  version: string;
  url: string;
  file: string;
  folder: string;
  sha256: string;
}

/** The release the cluster installs: the inventory's, else the newest kubeha knows for its Kubernetes minor. */
export function kubePrometheusVersion(model: ClusterModel): string {
  const version = model.addons.kubePrometheus.version ?? defaultKubePrometheusFor(model.cluster.minor);
  if (version === undefined) throw new Error(`no kube-prometheus release for Kubernetes 1.${model.cluster.minor} (the inventory rules refuse this)`);
  return version;
}

/** The tarball of the cluster's release; null when the addon is off. */
export function kubePrometheusTarball(model: ClusterModel): KubePrometheusTarball | null {
  const addon = model.addons.kubePrometheus;
  if (!addon.enabled) return null;
  if (addon.sha256 === undefined) throw new Error('addons.kubePrometheus.sha256 is missing (the inventory rules refuse this)');
  const version = kubePrometheusVersion(model);
  return {
    version,
    url: fileUrl(model.mirrors, kubePrometheusSourceUrl(version)),
    file: `kube-prometheus-v${version}.tar.gz`,
    folder: kubePrometheusTopFolder(version),
    sha256: addon.sha256,
  };
}
