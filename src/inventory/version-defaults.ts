/** Defaults that depend on the Kubernetes version, which the schema cannot express: applied after it. Pure. */
import { KUBERNETES_MINORS, type KubeProxyMode } from '../common/kubernetes-versions.js';
import { minorOf } from '../common/versions.js';
import type { Inventory } from './types.js';

/** An inventory after the schema and its defaults: what the version decides may still be unset. */
export type SchemaDefaulted = Omit<Inventory, 'cluster'> & {
  cluster: Omit<Inventory['cluster'], 'kubeProxyMode'> & { kubeProxyMode?: KubeProxyMode };
};

/** The kube-proxy mode of a cluster that sets none: its minor's row (nftables where GA), iptables for a minor kubeha does not know (the rules refuse it). */
export function defaultKubeProxyMode(kubernetesVersion: string): KubeProxyMode {
  const minor = minorOf(kubernetesVersion);
  return KUBERNETES_MINORS.find((m) => m.minor === minor)?.defaultKubeProxyMode ?? 'iptables';
}

/** The inventory with the version's defaults filled in. */
export function withVersionDefaults(document: SchemaDefaulted): Inventory {
  const { cluster } = document;
  return { ...document, cluster: { ...cluster, kubeProxyMode: cluster.kubeProxyMode ?? defaultKubeProxyMode(cluster.kubernetesVersion) } };
}
