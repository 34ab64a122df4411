/**
 * /etc/kubernetes/addons/kube-flannel.yml: the objects of flannel's upstream kube-flannel.yml (release v0.27.4), built as
 * typed objects with Network = podSubnet and the inventory's backend, dumped with js-yaml.
 */
import { imageOf } from '../model/images.js';
import type { ClusterModel } from '../model/types.js';

export { FLANNEL_RELEASE } from '../model/images.js';
import type { RenderContext } from './context.js';
import { dumpDocuments } from './kubeadm.js';
import { CNI_DIRS } from './runtime.js';

/** Namespace, names and labels of the flannel objects. */
export const FLANNEL_NAMES = {
  namespace: 'kube-flannel',
  serviceAccount: 'flannel',
  clusterRole: 'flannel',
  configMap: 'kube-flannel-cfg',
  daemonSet: 'kube-flannel-ds',
} as const;

/** Where the addon manifest lives on the first control plane. */
export const FLANNEL_MANIFEST_PATH = '/etc/kubernetes/addons/kube-flannel.yml';

/** UDP ports each flannel backend needs open between nodes. */
export const FLANNEL_BACKEND_PORTS: Record<ClusterModel['cluster']['cni']['backend'], number[]> = {
  vxlan: [8472],
  wireguard: [51820],
  'host-gw': [],
};

const appLabels = { app: 'flannel', 'k8s-app': 'flannel', tier: 'node' };

/** A Kubernetes object as a plain typed-enough record. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Record<
  string,
  unknown
>;

/** cni-conf.json: flannel delegating to the bridge plugin, plus portmap. */
export function cniConf(): object {
  return {
    name: 'cbr0',
    cniVersion: '0.3.1',
    plugins: [
      { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

/** net-conf.json: the pod network and the backend. */
export function netConf(model: ClusterModel): { Network: string; EnableNFTables: boolean; Backend: { Type: string } } {
  return {
    Network: model.cluster.podSubnet,
    // flannel's nftables masquerading is experimental upstream: keep its iptables rules (upstream's default) in every proxy mode.
    EnableNFTables: false,
    Backend: { Type: model.cluster.cni.backend },
  };
}

const hostPathVolume = (name: string, path: string, type?: string) => ({ name, hostPath: { path, ...(type ? { type } : {}) } });

/** The two init containers that copy flannel's CNI plugin and network config onto the host. */
function installContainers(model: ClusterModel) {
  return [
    {
      name: 'install-cni-plugin',
      image: imageOf(model, 'flannel-cni-plugin'),
      command: ['cp'],
      args: ['-f', '/flannel', `${CNI_DIRS.binDir}/flannel`],
      volumeMounts: [{ name: 'cni-plugin', mountPath: CNI_DIRS.binDir }],
    },
    {
      name: 'install-cni',
      image: imageOf(model, 'flannel'),
      command: ['cp'],
      args: ['-f', '/etc/kube-flannel/cni-conf.json', `${CNI_DIRS.confDir}/10-flannel.conflist`],
      volumeMounts: [
        { name: 'cni', mountPath: CNI_DIRS.confDir },
        { name: 'flannel-cfg', mountPath: '/etc/kube-flannel/' },
      ],
    },
  ];
}

/**
 * flanneld itself: the subnet manager with IP masquerading, allowed to change the host's network. It tunnels over the
 * interface holding the node's InternalIP (flanneld's --iface takes an address), which is the inventory's address (the
 * kubelet's node-ip): upstream's default, the interface of the default route, is the wrong link on hosts with several,
 * and a host without a default route has none.
 */
function flanneldContainer(model: ClusterModel) {
  return {
    name: 'kube-flannel',
    image: imageOf(model, 'flannel'),
    command: ['/opt/bin/flanneld'],
    args: ['--ip-masq', '--kube-subnet-mgr', '--iface=$(NODE_IP)'],
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'NODE_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
      { name: 'EVENT_QUEUE_DEPTH', value: '5000' },
      { name: 'CONT_WHEN_CACHE_NOT_READY', value: 'false' },
    ],
    resources: { requests: { cpu: '100m', memory: '50Mi' } },
    securityContext: { privileged: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
    volumeMounts: [
      { name: 'run', mountPath: '/run/flannel' },
      { name: 'flannel-cfg', mountPath: '/etc/kube-flannel/' },
      { name: 'xtables-lock', mountPath: '/run/xtables.lock' },
    ],
  };
}

/** The host folders and the ConfigMap the containers mount. */
const FLANNEL_VOLUMES = [
  hostPathVolume('run', '/run/flannel'),
  hostPathVolume('cni-plugin', CNI_DIRS.binDir),
  hostPathVolume('cni', CNI_DIRS.confDir),
  { name: 'flannel-cfg', configMap: { name: FLANNEL_NAMES.configMap } },
  hostPathVolume('xtables-lock', '/run/xtables.lock', 'FileOrCreate'),
];

/** flannel's DaemonSet: one pod per Linux node on the host network, tolerating every NoSchedule taint. */
function daemonSet(model: ClusterModel): K8sObject {
  const linuxOnly = { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }] };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: FLANNEL_NAMES.daemonSet, namespace: FLANNEL_NAMES.namespace, labels: { ...appLabels } },
    spec: {
      selector: { matchLabels: { app: 'flannel', 'k8s-app': 'flannel' } },
      template: {
        metadata: { labels: { ...appLabels } },
        spec: {
          affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: linuxOnly } },
          hostNetwork: true,
          priorityClassName: 'system-node-critical',
          serviceAccountName: FLANNEL_NAMES.serviceAccount,
          tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }],
          initContainers: installContainers(model),
          containers: [flanneldContainer(model)],
          volumes: FLANNEL_VOLUMES,
        },
      },
    },
  };
}

/** Every object flannel needs, in apply order. */
export function flannelObjects(model: ClusterModel): K8sObject[] {
  const ns = FLANNEL_NAMES.namespace;
  const label = { 'k8s-app': 'flannel' };
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ...label, 'pod-security.kubernetes.io/enforce': 'privileged' } } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: FLANNEL_NAMES.serviceAccount, namespace: ns, labels: { ...label } } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: FLANNEL_NAMES.clusterRole, labels: { ...label } },
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
        { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: FLANNEL_NAMES.clusterRole, labels: { ...label } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: FLANNEL_NAMES.clusterRole },
      subjects: [{ kind: 'ServiceAccount', name: FLANNEL_NAMES.serviceAccount, namespace: ns }],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: FLANNEL_NAMES.configMap, namespace: ns, labels: { ...appLabels } },
      data: {
        'cni-conf.json': JSON.stringify(cniConf(), null, 2) + '\n',
        'net-conf.json': JSON.stringify(netConf(model), null, 2) + '\n',
      },
    },
    daemonSet(model),
  ];
}

/** /etc/kubernetes/addons/kube-flannel.yml */
export function renderFlannel(ctx: RenderContext): string {
  return dumpDocuments(flannelObjects(ctx.model));
}
