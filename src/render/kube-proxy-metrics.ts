/** kube-proxy's metrics port (every address, one config for all nodes) kept to the cluster's hosts and pods, on every node. */
import { KUBE_PROXY_METRICS_PORT } from '../common/ports.js';
import { metricsEnabled } from './etcd.js';
import { namedFilter } from './metrics-filter.js';

/** kube-proxy's filter: it listens on 0.0.0.0; 127.0.0.1 keeps the node's own access of before (its default bind address). */
export const KUBE_PROXY_FILTER = namedFilter('kube-proxy', {
  when: (host, model) => host.isKubernetesNode && metricsEnabled(model),
  port: () => KUBE_PROXY_METRICS_PORT,
  extraSources: ['127.0.0.1'],
  before: 'kubelet.service',
  beforeName: 'kubelet',
  who: (h) => `kube-proxy on node ${h}`,
  what: (h) => `kube-proxy metrics port of node ${h}`,
});

/** Where kube-proxy's unit and nftables rules are installed on every Kubernetes node. */
export const KUBE_PROXY_METRICS_FILTER_PATHS = { unit: `/etc/systemd/system/${KUBE_PROXY_FILTER.unit}`, rules: KUBE_PROXY_FILTER.rules } as const;
/** The nftables table kubeha owns on each node for kube-proxy's metrics port. */
export const KUBE_PROXY_METRICS_TABLE = KUBE_PROXY_FILTER.table;
