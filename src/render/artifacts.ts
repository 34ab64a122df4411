/** The one list of artifacts and the one list of run.sh steps, gathered from each concern's module. */
import { baseArtifacts, baseSteps } from './base.js';
import type { Artifact, Step } from './context.js';
import { etcdArtifacts, etcdSteps } from './etcd.js';
import { hostSetupSteps } from './host-setup.js';
import { etcdBackupArtifacts, etcdBackupSteps } from './etcd-backup.js';
import { ETCD_FILTER } from './etcd-metrics.js';
import { KUBE_PROXY_FILTER } from './kube-proxy-metrics.js';
import { metricsFilterArtifacts, metricsFilterSteps } from './metrics-filter.js';
import { etcdDefragArtifacts, etcdDefragSteps } from './etcd-defrag.js';
import { kubePrometheusArtifacts, kubePrometheusSteps } from './kube-prometheus.js';
import { kubernetesArtifacts, kubernetesSteps } from './kubernetes.js';
import { loadBalancerArtifacts, loadBalancerSteps } from './loadbalancer.js';
import { packageKeyArtifacts } from './package-keys.js';
import { pkiArtifacts } from './secret-files.js';
import { registryHostsArtifacts } from './runtime.js';
import { upgradeSteps } from './upgrade.js';
import { remembered } from '../common/memo.js';
import type { ClusterModel } from '../model/types.js';

/**
 * The metrics ports kept to the cluster, in the order run.sh loads them: etcd's before etcd starts (its steps come
 * before etcd's), kube-proxy's before the kubelet (kube-proxy starts in the kubeadm phase, after every service step).
 */
const METRICS_FILTERS = [ETCD_FILTER, KUBE_PROXY_FILTER];

/** Every file kubeha can install, with who gets it. */
export const ARTIFACTS: readonly Artifact[] = [
  ...baseArtifacts,
  ...pkiArtifacts,
  ...etcdArtifacts,
  ...etcdBackupArtifacts,
  ...metricsFilterArtifacts(METRICS_FILTERS),
  ...etcdDefragArtifacts,
  ...loadBalancerArtifacts,
  ...kubernetesArtifacts,
  ...packageKeyArtifacts,
  ...kubePrometheusArtifacts,
];

const perModel = new WeakMap<ClusterModel, readonly Artifact[]>();

/**
 * Every file of this cluster: the fixed list plus the files whose paths come from the inventory (one containerd
 * hosts.toml per registry mirror). The same array for the same model, so renders shared by every host stay shared.
 */
export function artifactsFor(model: ClusterModel): readonly Artifact[] {
  return remembered(perModel, model, () => [...ARTIFACTS, ...registryHostsArtifacts(model)]);
}

/** Every run.sh step, with who runs it; steps of one phase run in this order (the etcd metrics filter before etcd starts). */
export const STEPS: readonly Step[] = [
  ...baseSteps,
  ...hostSetupSteps,
  ...metricsFilterSteps(METRICS_FILTERS),
  ...etcdSteps,
  ...etcdBackupSteps,
  ...etcdDefragSteps,
  ...loadBalancerSteps,
  ...kubernetesSteps,
  ...upgradeSteps,
  ...kubePrometheusSteps,
];
