/**
 * Kubernetes version changes on a running node, the way kubeadm's upgrade guide does them: run.sh reads the installed
 * kubelet and kubeadm (preflight) and decides install, nothing or upgrade; the upgrade step upgrades kubeadm, runs
 * `kubeadm upgrade apply` (first control plane) or `kubeadm upgrade node` (the others, each after the API servers
 * before it), then drains the node around its kubelet upgrade. Skips of a minor and downgrades are refused.
 */
import type { ClusterModel, HostModel } from '../model/types.js';
import { API_SERVER_PORT } from '../common/ports.js';
import { minExternalEtcdFor } from '../common/versions.js';
import type { HostFilter, RenderContext, Step } from './context.js';
import { acceptsCgroupV1, CGROUP_V1_PREFLIGHT_CHECK, ETCD_CLIENT_FILES, KUBEADM_ADDONS_PATH, KUBEADM_CONFIG_PATH } from './kubeadm.js';
import { containerdMinimum, runtimePackages } from './node-packages.js';
import { RUNTIME_PATHS } from './kubernetes.js';
import { usesDocker } from './runtime.js';
import { fromTemplate, shellQuote as q } from './templates.js';

/** How long a node waits for the API servers it follows to run the new version. */
export const UPGRADE_WAIT_SECONDS = 1800;
/** How long a worker's self-drain retries evictions a disruption budget refuses. */
export const WORKER_DRAIN_SECONDS = 600;
/** How long a node may take to be Ready at the new version after its kubelet restarted, before the rollout stops. */
export const NODE_READY_WAIT_SECONDS = 300;
/** The record of an upgrade in progress on a node (the target, then each step done): a killed run resumes from it. */
export const UPGRADE_RECORD = { dir: '/var/lib/kubeha', path: '/var/lib/kubeha/upgrade' } as const;
/** kubectl drain's own time limit. */
export const DRAIN_TIMEOUT = '600s';
/** The admin kubeconfig kubeadm writes on control planes. */
export const ADMIN_CONF = '/etc/kubernetes/admin.conf';
/** The kubelet's kubeconfig: every joined node has it; a node may read its own Node object with it. */
export const KUBELET_CONF = '/etc/kubernetes/kubelet.conf';

const kubernetesNode: HostFilter = (host) => host.isKubernetesNode;

/**
 * The control planes whose API servers must run the new version before this node upgrades: none for the first
 * control plane, the control planes listed before it for the others (one at a time), every control plane for workers.
 */
export function upgradeFollows(model: ClusterModel, host: HostModel): HostModel[] {
  if (host.isInit) return [];
  const index = model.controlPlanes.findIndex((h) => h.name === host.name);
  return index >= 0 ? model.controlPlanes.slice(0, index) : [...model.controlPlanes];
}

function versionView(ctx: RenderContext) {
  return { target: ctx.model.cluster.kubernetesVersion, kubeletConf: KUBELET_CONF, record: UPGRADE_RECORD.path };
}

/** The containerd a node must run after the upgrade (containerd nodes only): upgraded on the drained node when older. */
function containerdView(model: ClusterModel) {
  if (usesDocker(model)) return null;
  const pkgs = runtimePackages(model);
  return { minimum: containerdMinimum(model), deb: pkgs.deb, rpm: pkgs.rpm, config: RUNTIME_PATHS.containerdConfig };
}

function upgradeView(ctx: RenderContext) {
  const { model, host } = ctx;
  const target = model.cluster.kubernetesVersion;
  const follows = upgradeFollows(model, host);
  return {
    target,
    host: q(host.name),
    isInit: host.isInit,
    isControlPlane: host.isControlPlane,
    isLastControlPlane: model.controlPlanes[model.controlPlanes.length - 1]?.name === host.name,
    config: KUBEADM_CONFIG_PATH,
    addonsConfig: host.isInit ? KUBEADM_CONFIG_PATH : KUBEADM_ADDONS_PATH,
    adminConf: ADMIN_CONF,
    kubeletConf: KUBELET_CONF,
    drainTimeout: DRAIN_TIMEOUT,
    waitSeconds: UPGRADE_WAIT_SECONDS,
    drainSeconds: WORKER_DRAIN_SECONDS,
    readyWait: NODE_READY_WAIT_SECONDS,
    record: UPGRADE_RECORD.path,
    recordDir: UPGRADE_RECORD.dir,
    containerd: containerdView(model),
    // kubeadm upgrade's preflight runs SystemVerification too: on accepted cgroup v1 hosts only that one is ignored.
    ignore: acceptsCgroupV1(model) ? ` --ignore-preflight-errors=${CGROUP_V1_PREFLIGHT_CHECK}` : '',
    apiUrls: follows.map((h) => q(`https://${h.address}:${API_SERVER_PORT}/version`)),
    // A control plane's own API server restarts with its kubelet (new static pod hashes) and answers Forbidden until its
    // authorizers have synced; /readyz says when (anonymous access to it is allowed by default).
    ownReadyz: host.isControlPlane ? q(`https://${host.address}:${API_SERVER_PORT}/readyz`) : '',
    apiWhat: q(`the API servers of ${follows.map((h) => h.name).join(', ')} to run v${target} (run their bundles first, one control plane at a time)`),
    etcd: {
      min: minExternalEtcdFor(model.cluster.kubernetesVersion),
      urls: model.etcd.members.map((m) => q(`${m.clientURL}/version`)),
      tls: ETCD_CLIENT_FILES,
    },
  };
}

/** run.sh steps of a version change: the decision (preflight, so --only never skips it) and the upgrade itself. */
export const upgradeSteps: readonly Step[] = [
  {
    phase: 'preflight',
    name: 'Kubernetes version on this node: install, nothing or upgrade',
    when: kubernetesNode,
    script: fromTemplate('kubernetes/preflight-version.sh.ejs', versionView),
  },
  {
    phase: 'kubeadm',
    name: 'kubeadm upgrade, then the kubelet on a drained node (when the version moves up)',
    when: kubernetesNode,
    script: fromTemplate('kubernetes/kubeadm-upgrade.sh.ejs', upgradeView),
  },
];
