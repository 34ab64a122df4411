/**
 * The monitors kubeha adds to kube-prometheus, built as typed objects: a ServiceMonitor for the external etcd members
 * and for haproxy on the load balancers (kube-prometheus scrapes neither), and a PodMonitor for kube-proxy (its
 * kubeProxy option builds one, but the released manifests/ leave it out). They are custom resources: run.sh applies
 * them only once kube-prometheus' CRDs are established.
 */
import { KUBE_PROXY_METRICS_PORT } from '../common/ports.js';
import type { ClusterModel } from '../model/types.js';
import type { K8sObject } from './flannel.js';

/** Where the monitors live on the first control plane. */
export const KUBE_PROMETHEUS_MONITORS_PATH = '/etc/kubernetes/addons/kube-prometheus-monitors.yaml';
/** kube-prometheus' namespace, where its Prometheus looks for monitors first. */
export const MONITORING_NAMESPACE = 'monitoring';
/** The Service kubeha makes for haproxy's exporter on the load balancers (kube-system, no selector). */
export const HAPROXY_METRICS_SERVICE = 'kubeha-haproxy';

const API = 'monitoring.coreos.com/v1';
const KUBE_SYSTEM = { matchNames: ['kube-system'] };
const labels = (name: string) => ({ 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'kubeha' });

/** A ServiceMonitor scraping plain HTTP port `metrics` of the kube-system Service labelled app.kubernetes.io/name=NAME. */
function serviceMonitor(name: string, job: string): K8sObject {
  return {
    apiVersion: API,
    kind: 'ServiceMonitor',
    metadata: { name, namespace: MONITORING_NAMESPACE, labels: labels(job) },
    spec: {
      jobLabel: 'app.kubernetes.io/name',
      namespaceSelector: KUBE_SYSTEM,
      selector: { matchLabels: { 'app.kubernetes.io/name': job } },
      endpoints: [{ port: 'metrics', scheme: 'http', interval: '30s' }],
    },
  };
}

/** kube-proxy runs on the host network: its pods' address is the node's, and the metrics port is its metricsBindAddress port. */
function kubeProxyPodMonitor(): K8sObject {
  const replace = (source: string, target: string, replacement: string) => ({
    action: 'replace',
    sourceLabels: [source],
    regex: '(.*)',
    replacement,
    targetLabel: target,
  });
  return {
    apiVersion: API,
    kind: 'PodMonitor',
    metadata: { name: 'kube-proxy', namespace: MONITORING_NAMESPACE, labels: { 'k8s-app': 'kube-proxy', 'app.kubernetes.io/part-of': 'kubeha' } },
    spec: {
      jobLabel: 'k8s-app',
      namespaceSelector: KUBE_SYSTEM,
      selector: { matchLabels: { 'k8s-app': 'kube-proxy' } },
      podMetricsEndpoints: [
        {
          honorLabels: true,
          relabelings: [
            replace('__meta_kubernetes_pod_node_name', 'instance', '$1'),
            replace('__meta_kubernetes_pod_ip', '__address__', `$1:${KUBE_PROXY_METRICS_PORT}`),
          ],
        },
      ],
    },
  };
}

/** Every monitor of the file, in apply order (haproxy's only with load balancers). */
export function kubePrometheusMonitors(model: ClusterModel): K8sObject[] {
  const haproxy = model.hosts.some((h) => h.isLoadBalancer) ? [serviceMonitor('haproxy', 'haproxy')] : [];
  return [serviceMonitor('etcd', 'etcd'), kubeProxyPodMonitor(), ...haproxy];
}
