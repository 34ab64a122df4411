/** /etc/kubernetes/kubeadm-config.yaml: typed documents for the kubeadm API of the cluster's version, dumped with js-yaml. */
import { kubeadmRepositories } from '../model/images.js';
import { dump } from 'js-yaml';
import { firstMinorWhere, kubernetesMinor } from '../common/kubernetes-versions.js';
import { API_SERVER_PORT, KUBE_PROXY_METRICS_PORT } from '../common/ports.js';
import type { ClusterModel, HostModel } from '../model/types.js';
import { installedPath } from '../pki/cert-list.js';
import { caCertHash } from './ca-cert-hash.js';
import type { RenderContext } from './context.js';
import type {
  APIEndpoint,
  Arg,
  BootstrapToken,
  ClusterConfiguration,
  ExtraArgsV1beta3,
  InitConfiguration,
  JoinConfiguration,
  KubeadmDocument,
  KubeletConfiguration,
  KubeProxyConfiguration,
  NodeRegistration,
  Taint,
} from './kubeadm-types.js';
import { secretFile, tokensOf } from './secret-files.js';

/** Where kubeadm-config.yaml lives on every Kubernetes node. */
export const KUBEADM_CONFIG_PATH = '/etc/kubernetes/kubeadm-config.yaml';
/**
 * The cluster's settings for kubeadm's addon phases on the last control plane, a joined one: its kubeadm-config.yaml
 * holds a JoinConfiguration only, which `kubeadm init phase addon` refuses (found by e2e:upgrade on 1.37.2).
 */
export const KUBEADM_ADDONS_PATH = '/etc/kubernetes/kubeadm-addons.yaml';
/** How long kubeadm waits for the control-plane components and for discovery (Go duration). */
export const KUBEADM_TIMEOUT = '5m0s';
/** Paths of the external-etcd client material that src/render/secret-files.ts installs on control planes. */
export const ETCD_CLIENT_FILES = {
  caFile: `${installedPath('etcd-ca', 'control-plane')}.crt`,
  certFile: `${installedPath('apiserver-etcd-client', 'control-plane')}.crt`,
  keyFile: `${installedPath('apiserver-etcd-client', 'control-plane')}.key`,
} as const;
/** The taint kubeadm gives control planes by default, written out when the cluster has workers. */
export const CONTROL_PLANE_TAINT: Taint = { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' };
/** kubeadm's default usages of a node-join bootstrap token. */
export const BOOTSTRAP_TOKEN_USAGES = ['signing', 'authentication'];
/** kubeadm's default groups of a node-join bootstrap token. */
export const BOOTSTRAP_TOKEN_GROUPS = ['system:bootstrappers:kubeadm:default-node-token'];
/** ipvs settings: round robin, strict ARP (kube-ipvs0 addresses are not answered on the LAN), bounded resync churn. */
export const IPVS_SETTINGS = { scheduler: 'rr', strictARP: true, syncPeriod: '30s', minSyncPeriod: '2s' } as const;

const isV1beta4 = (model: ClusterModel) => model.cluster.kubeadmApiVersion === 'kubeadm.k8s.io/v1beta4';

/** `host:port` of the control-plane endpoint (the VIP, its DNS name, or the single API server). */
export function endpointOf(model: ClusterModel): string {
  return `${model.controlPlaneEndpoint.host}:${model.controlPlaneEndpoint.port}`;
}

/** Extra arguments in the shape of the cluster's kubeadm API: a map (v1beta3) or a name/value list (v1beta4). */
export function extraArgs(model: ClusterModel, args: readonly Arg[]): ExtraArgsV1beta3 | Arg[] {
  return isV1beta4(model) ? args.map((a) => ({ ...a })) : Object.fromEntries(args.map((a) => [a.name, a.value]));
}

/**
 * Taints of a node: none on workers, none on a control plane that is also a worker, none on any control plane
 * when the cluster has no worker (pods must run somewhere); otherwise the usual control-plane taint.
 */
export function taintsFor(model: ClusterModel, host: HostModel): Taint[] {
  if (!host.isControlPlane || host.isWorker) return [];
  return model.hosts.some((h) => h.isWorker) ? [{ ...CONTROL_PLANE_TAINT }] : [];
}

/** Names and addresses the API server certificate must also carry: VIP, DNS name, every control plane. */
export function apiServerSans(model: ClusterModel): string[] {
  const names = [
    ...(model.loadBalancer ? [model.loadBalancer.vip] : []),
    ...(model.loadBalancer?.dnsName ? [model.loadBalancer.dnsName] : []),
    ...model.controlPlanes.flatMap((h) => [h.address, h.name]),
  ];
  return [...new Set(names)];
}

/** The first Kubernetes minor whose kubelet refuses cgroup v1 by default (failCgroupV1) and whose kubeadm preflight fails on it. */
export const CGROUP_V1_REFUSED_FROM = firstMinorWhere((m) => m.cgroupV1Refused)!;

/** Whether this Kubernetes minor refuses cgroup v1 unless told otherwise (the version table's column). */
export function refusesCgroupV1(model: ClusterModel): boolean {
  return kubernetesMinor(model.cluster.minor).cgroupV1Refused;
}

/** Whether this cluster runs on cgroup v1 knowingly: the inventory accepts it and the version would refuse it otherwise. */
export function acceptsCgroupV1(model: ClusterModel): boolean {
  return model.cluster.allowCgroupV1 && refusesCgroupV1(model);
}

/** The one kubeadm preflight check that fails on cgroup v1 (kubernetes/system-validators), ignored only when accepted. */
export const CGROUP_V1_PREFLIGHT_CHECK = 'SystemVerification';

function nodeRegistration(model: ClusterModel, host: HostModel): NodeRegistration {
  return {
    name: host.name,
    criSocket: model.cluster.criSocket,
    taints: taintsFor(model, host),
    // The inventory address becomes the node's InternalIP even on hosts with several interfaces.
    kubeletExtraArgs: extraArgs(model, [{ name: 'node-ip', value: host.address }]),
    ...(acceptsCgroupV1(model) ? { ignorePreflightErrors: [CGROUP_V1_PREFLIGHT_CHECK] } : {}),
  };
}

function localEndpoint(host: HostModel): APIEndpoint {
  return { advertiseAddress: host.address, bindPort: API_SERVER_PORT };
}

function initConfiguration(ctx: RenderContext): InitConfiguration {
  const { model, host } = ctx;
  const token: BootstrapToken = {
    token: tokensOf(ctx).bootstrapToken,
    description: 'kubeha: joins the nodes of this inventory',
    ttl: model.cluster.bootstrapTokenTTL,
    usages: [...BOOTSTRAP_TOKEN_USAGES],
    groups: [...BOOTSTRAP_TOKEN_GROUPS],
  };
  return {
    apiVersion: model.cluster.kubeadmApiVersion,
    kind: 'InitConfiguration',
    bootstrapTokens: [token],
    nodeRegistration: nodeRegistration(model, host),
    localAPIEndpoint: localEndpoint(host),
    ...(isV1beta4(model) ? { timeouts: { controlPlaneComponentHealthCheck: KUBEADM_TIMEOUT } } : {}),
  };
}

function clusterConfiguration(model: ClusterModel): ClusterConfiguration {
  return {
    apiVersion: model.cluster.kubeadmApiVersion,
    kind: 'ClusterConfiguration',
    clusterName: model.cluster.name,
    kubernetesVersion: `v${model.cluster.kubernetesVersion}`,
    controlPlaneEndpoint: endpointOf(model),
    ...kubeadmImageSettings(model),
    networking: { podSubnet: model.cluster.podSubnet, serviceSubnet: model.cluster.serviceSubnet, dnsDomain: model.cluster.dnsDomain },
    etcd: { external: { endpoints: [...model.etcd.clientEndpoints], ...ETCD_CLIENT_FILES } },
    apiServer: {
      certSANs: apiServerSans(model),
      ...(isV1beta4(model) ? {} : { timeoutForControlPlane: KUBEADM_TIMEOUT }),
    },
    ...(model.addons.kubePrometheus.enabled ? scrapableControlPlane(model) : {}),
  };
}

/** imageRepository, and dns.imageRepository when coredns comes from a mirror of registry.k8s.io (the one image list decides). */
function kubeadmImageSettings(model: ClusterModel): Pick<ClusterConfiguration, 'imageRepository' | 'dns'> {
  const { imageRepository, dnsImageRepository } = kubeadmRepositories(model);
  return { imageRepository, ...(dnsImageRepository ? { dns: { imageRepository: dnsImageRepository } } : {}) };
}

/**
 * With addons.kubePrometheus: kube-controller-manager and kube-scheduler listen on every address instead of 127.0.0.1,
 * so Prometheus reaches their secure ports (10257, 10259), where /metrics still needs an authorized client.
 */
function scrapableControlPlane(model: ClusterModel): Pick<ClusterConfiguration, 'controllerManager' | 'scheduler'> {
  const bind = () => ({ extraArgs: extraArgs(model, [{ name: 'bind-address', value: '0.0.0.0' }]) });
  return { controllerManager: bind(), scheduler: bind() };
}

/** The kubelet's own hard-eviction defaults (k8s.io/kubernetes pkg/kubelet/eviction/defaults_linux.go, 1.28 to 1.37). */
export const KUBELET_EVICTION_HARD_DEFAULTS: Readonly<Record<string, string>> = {
  'memory.available': '100Mi',
  'nodefs.available': '10%',
  'nodefs.inodesFree': '5%',
  'imagefs.available': '15%',
  'imagefs.inodesFree': '5%',
};

/**
 * The inventory's eviction thresholds over the kubelet's defaults, or nothing when it gives none: a kubelet given some
 * thresholds drops the others (mergeDefaultEvictionSettings is false by default), so kubeha writes the whole set.
 */
function evictionHard(model: ClusterModel): Pick<KubeletConfiguration, 'evictionHard'> {
  const given = model.cluster.kubelet.evictionHard;
  if (!given || Object.keys(given).length === 0) return {};
  const merged: Record<string, string> = { ...KUBELET_EVICTION_HARD_DEFAULTS, ...given };
  return {
    evictionHard: Object.fromEntries(
      Object.keys(merged)
        .sort()
        .map((k) => [k, merged[k] as string]),
    ),
  };
}

/** The kubelet settings every node shares (kubeadm uploads them from the init node); cgroup v1 only when accepted. */
export function kubeletConfiguration(model: ClusterModel): KubeletConfiguration {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    cgroupDriver: 'systemd',
    ...(acceptsCgroupV1(model) ? { failCgroupV1: false as const } : {}),
    ...evictionHard(model),
  };
}

/**
 * kube-proxy settings: the inventory's mode, the pod range, ipvs tuning in ipvs mode. With addons.kubePrometheus its
 * metrics listen on every address (one config serves every node, so no node's own address fits), kept to the cluster's
 * hosts and pods by kubeha's nftables table on each node (render/kube-proxy-metrics.ts).
 */
export function kubeProxyConfiguration(model: ClusterModel): KubeProxyConfiguration {
  const mode = model.cluster.kubeProxyMode;
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode,
    clusterCIDR: model.cluster.podSubnet,
    ...(mode === 'ipvs' ? { ipvs: { ...IPVS_SETTINGS } } : {}),
    ...(model.addons.kubePrometheus.enabled ? { metricsBindAddress: `0.0.0.0:${KUBE_PROXY_METRICS_PORT}` } : {}),
  };
}

function joinConfiguration(ctx: RenderContext): JoinConfiguration {
  const { model, host } = ctx;
  const v4 = isV1beta4(model);
  return {
    apiVersion: model.cluster.kubeadmApiVersion,
    kind: 'JoinConfiguration',
    nodeRegistration: nodeRegistration(model, host),
    discovery: {
      bootstrapToken: {
        apiServerEndpoint: endpointOf(model),
        token: tokensOf(ctx).bootstrapToken,
        caCertHashes: [caCertHash(secretFile(ctx, 'ca.crt'))],
      },
      ...(v4 ? {} : { timeout: KUBEADM_TIMEOUT }),
    },
    ...(host.isControlPlane ? { controlPlane: { localAPIEndpoint: localEndpoint(host) } } : {}),
    ...(v4 ? { timeouts: { discovery: KUBEADM_TIMEOUT, ...(host.isControlPlane ? { controlPlaneComponentHealthCheck: KUBEADM_TIMEOUT } : {}) } } : {}),
  };
}

/** The documents of one node's kubeadm-config.yaml: init (four kinds) on the first control plane, a join elsewhere. */
export function kubeadmDocuments(ctx: RenderContext): KubeadmDocument[] {
  if (ctx.host.isInit) {
    return [initConfiguration(ctx), clusterConfiguration(ctx.model), kubeletConfiguration(ctx.model), kubeProxyConfiguration(ctx.model)];
  }
  return [joinConfiguration(ctx)];
}

/** The last control plane when it is not the first: it applies the bundle's kube-proxy settings after an upgrade. */
export function isLastJoinedControlPlane(host: HostModel, model: ClusterModel): boolean {
  return !host.isInit && model.controlPlanes[model.controlPlanes.length - 1]?.name === host.name;
}

/** /etc/kubernetes/kubeadm-addons.yaml: the ClusterConfiguration and KubeProxyConfiguration of the init node's config, no token. */
export function renderKubeadmAddonsConfig(ctx: RenderContext): string {
  return dumpDocuments([clusterConfiguration(ctx.model), kubeProxyConfiguration(ctx.model)]);
}

/** Dumps documents as one multi-document YAML stream. */
export function dumpDocuments(docs: readonly object[]): string {
  return docs.map((d) => '---\n' + dump(d, { noRefs: true, lineWidth: -1 })).join('');
}

/** /etc/kubernetes/kubeadm-config.yaml */
export function renderKubeadmConfig(ctx: RenderContext): string {
  return dumpDocuments(kubeadmDocuments(ctx));
}
