/**
 * What kube-prometheus expects on a kubeadm cluster with external etcd, built as typed objects: Services for
 * kube-controller-manager and kube-scheduler in kube-system (its ServiceMonitors select them by
 * app.kubernetes.io/name and port https-metrics), and a selector-less Service with Endpoints for the etcd members'
 * metrics (the labels and port name of kube-prometheus' static-etcd addon).
 */
import type { ClusterModel } from '../model/types.js';
import type { Artifact, HostFilter, RenderContext, Step } from './context.js';
import { metricsEnabled } from './etcd.js';
import type { K8sObject } from './flannel.js';
import { dumpDocuments } from './kubeadm.js';
import { HAPROXY_METRICS_SERVICE } from './kube-prometheus-monitors.js';
import { kubePrometheusInstallArtifacts, kubePrometheusInstallSteps } from './kube-prometheus-install.js';
import { fromTemplate, renderTemplate } from './templates.js';

/** Where the objects live on the first control plane. */
export const KUBE_PROMETHEUS_OBJECTS_PATH = '/etc/kubernetes/addons/kube-prometheus-kubeadm.yaml';

/** The control-plane components kube-prometheus scrapes over HTTPS, with kubeadm's static pod label and their secure port. */
export const CONTROL_PLANE_METRICS = [
  { name: 'kube-controller-manager', port: 10257 },
  { name: 'kube-scheduler', port: 10259 },
] as const;

const NAMESPACE = 'kube-system';
const addonOn: HostFilter = (host, model) => host.isInit && metricsEnabled(model);

function controlPlaneService(name: string, port: number): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NAMESPACE, labels: { 'app.kubernetes.io/name': name } },
    spec: { clusterIP: 'None', selector: { component: name }, ports: [{ name: 'https-metrics', port, targetPort: port, protocol: 'TCP' }] },
  };
}

/** The etcd Service (no selector: etcd is no pod) and its Endpoints, one address per member, on etcd.metricsPort. */
export function etcdMetricsObjects(model: ClusterModel): K8sObject[] {
  return hostsService(
    'etcd',
    'etcd',
    model.etcd.members.map((m) => m.address),
    model.etcd.metricsPort,
  );
}

/**
 * A selector-less Service and its Endpoints in kube-system for hosts outside the pod network, on port `metrics`. v1
 * Endpoints, not EndpointSlices: releases up to 0.16.0 discover Endpoints, and from 0.17.0 (serviceDiscoveryRole:
 * EndpointSlice) the mirroring controller's EndpointSlices of them.
 */
function hostsService(name: string, job: string, addresses: string[], port: number): K8sObject[] {
  const metadata = { name, namespace: NAMESPACE, labels: { 'app.kubernetes.io/name': job } };
  return [
    { apiVersion: 'v1', kind: 'Service', metadata, spec: { clusterIP: 'None', ports: [{ name: 'metrics', port, targetPort: port, protocol: 'TCP' }] } },
    {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata,
      subsets: [{ addresses: addresses.map((ip) => ({ ip })), ports: [{ name: 'metrics', port, protocol: 'TCP' }] }],
    },
  ];
}

/** haproxy's exporter on every load balancer (none without load balancers). */
export function haproxyMetricsObjects(model: ClusterModel): K8sObject[] {
  const lbs = model.hosts.filter((h) => h.isLoadBalancer);
  if (!model.loadBalancer || lbs.length === 0) return [];
  return hostsService(
    HAPROXY_METRICS_SERVICE,
    'haproxy',
    lbs.map((h) => h.address),
    model.loadBalancer.metricsPort,
  );
}

/** Every object of the file, in apply order. */
export function kubePrometheusObjects(model: ClusterModel): K8sObject[] {
  return [...CONTROL_PLANE_METRICS.map((c) => controlPlaneService(c.name, c.port)), ...etcdMetricsObjects(model), ...haproxyMetricsObjects(model)];
}

/** Files of the first control plane when addons.kubePrometheus is on. */
export const kubePrometheusArtifacts: readonly Artifact[] = [
  { path: KUBE_PROMETHEUS_OBJECTS_PATH, mode: 0o644, when: addonOn, render: (ctx: RenderContext) => dumpDocuments(kubePrometheusObjects(ctx.model)) },
  ...kubePrometheusInstallArtifacts,
];

/** run.sh steps: the objects applied server-side after flannel on the first control plane, the exporter check on load balancers, the install. */
export const kubePrometheusSteps: readonly Step[] = [
  {
    phase: 'addons',
    name: 'kube-prometheus: Services and Endpoints of the control plane, etcd and haproxy',
    when: addonOn,
    script: (ctx) => renderTemplate(ctx.templates, 'kubernetes/addons-kube-prometheus.sh.ejs', { manifest: KUBE_PROMETHEUS_OBJECTS_PATH }),
  },
  {
    phase: 'services',
    name: "kube-prometheus: haproxy's exporter",
    when: (host, model) => host.isLoadBalancer && metricsEnabled(model),
    script: fromTemplate('loadbalancer/metrics-check.sh.ejs'),
  },
  ...kubePrometheusInstallSteps,
];
