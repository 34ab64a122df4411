/**
 * Typed shapes of the kubeadm, kubelet and kube-proxy configuration documents kubeha writes.
 * Field names follow the Go json tags of kubeadm's v1beta3 and v1beta4 types (cmd/kubeadm/app/apis/kubeadm/v1beta{3,4}/types.go),
 * bootstraptoken/v1, kubelet.config.k8s.io/v1beta1 and kubeproxy.config.k8s.io/v1alpha1; only the fields kubeha sets.
 */

/** v1beta3 passes extra arguments as a string map; v1beta4 as a name/value list that allows duplicates. */
export type ExtraArgsV1beta3 = Record<string, string>;
/** One v1beta4 extra argument. */
export interface Arg {
  name: string;
  value: string;
}

/** corev1.Taint; `taints: []` means "no taint", a missing field means "the default control-plane taint". */
export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** APIEndpoint: where this node's API server listens. */
export interface APIEndpoint {
  advertiseAddress: string;
  bindPort: number;
}

/** NodeRegistrationOptions. */
export interface NodeRegistration {
  name: string;
  criSocket: string;
  taints?: Taint[];
  kubeletExtraArgs?: ExtraArgsV1beta3 | Arg[];
  ignorePreflightErrors?: string[];
}

/** bootstraptoken/v1 BootstrapToken. */
export interface BootstrapToken {
  token: string;
  description: string;
  ttl: string;
  usages: string[];
  groups: string[];
}

/** v1beta4 Timeouts (moved out of apiServer.timeoutForControlPlane and discovery.timeout). */
export interface Timeouts {
  controlPlaneComponentHealthCheck?: string;
  discovery?: string;
  tlsBootstrap?: string;
}

/** InitConfiguration (first control plane). */
export interface InitConfiguration {
  apiVersion: string;
  kind: 'InitConfiguration';
  bootstrapTokens: BootstrapToken[];
  nodeRegistration: NodeRegistration;
  localAPIEndpoint: APIEndpoint;
  timeouts?: Timeouts;
}

/** ExternalEtcd: the etcd cluster kubeha runs outside kubeadm. */
export interface ExternalEtcd {
  endpoints: string[];
  caFile: string;
  certFile: string;
  keyFile: string;
}

/** APIServer: extra SANs (and, in v1beta3 only, the control-plane timeout). */
export interface APIServer {
  certSANs: string[];
  timeoutForControlPlane?: string;
}

/** ControlPlaneComponent (controllerManager, scheduler): extra flags of its static pod. */
export interface ControlPlaneComponent {
  extraArgs: ExtraArgsV1beta3 | Arg[];
}

/** ClusterConfiguration. */
export interface ClusterConfiguration {
  apiVersion: string;
  kind: 'ClusterConfiguration';
  clusterName: string;
  kubernetesVersion: string;
  controlPlaneEndpoint: string;
  imageRepository: string;
  dns?: { imageRepository: string };
  networking: { podSubnet: string; serviceSubnet: string; dnsDomain: string };
  etcd: { external: ExternalEtcd };
  apiServer: APIServer;
  controllerManager?: ControlPlaneComponent;
  scheduler?: ControlPlaneComponent;
}

/** BootstrapTokenDiscovery. */
export interface BootstrapTokenDiscovery {
  apiServerEndpoint: string;
  token: string;
  caCertHashes: string[];
}

/** JoinConfiguration (every other node). */
export interface JoinConfiguration {
  apiVersion: string;
  kind: 'JoinConfiguration';
  nodeRegistration: NodeRegistration;
  discovery: { bootstrapToken: BootstrapTokenDiscovery; timeout?: string };
  controlPlane?: { localAPIEndpoint: APIEndpoint };
  timeouts?: Timeouts;
}

/** kubelet.config.k8s.io/v1beta1 KubeletConfiguration. */
export interface KubeletConfiguration {
  apiVersion: 'kubelet.config.k8s.io/v1beta1';
  kind: 'KubeletConfiguration';
  cgroupDriver: 'systemd';
  failCgroupV1?: false;
  /** Hard eviction thresholds by signal; given, it is the whole set (signals left out are not watched). */
  evictionHard?: Record<string, string>;
}

/** kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration. */
export interface KubeProxyConfiguration {
  apiVersion: 'kubeproxy.config.k8s.io/v1alpha1';
  kind: 'KubeProxyConfiguration';
  mode: 'ipvs' | 'iptables' | 'nftables';
  clusterCIDR: string;
  ipvs?: { scheduler: string; strictARP: boolean; syncPeriod: string; minSyncPeriod: string };
  /** host:port of /metrics; kube-proxy's default is 127.0.0.1:10249. */
  metricsBindAddress?: string;
}

/** Any document of kubeadm-config.yaml. */
export type KubeadmDocument = InitConfiguration | ClusterConfiguration | JoinConfiguration | KubeletConfiguration | KubeProxyConfiguration;
