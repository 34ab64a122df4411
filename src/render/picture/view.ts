/** What the picture of a cluster shows, as data: derived from the ClusterModel alone, before any geometry. Pure. */
import { API_SERVER_PORT, KUBERNETES_PORTS } from '../../common/ports.js';
import type { ClusterModel, HostModel } from '../../model/types.js';
import { FLANNEL_BACKEND_PORTS } from '../flannel.js';

/** The roles a host column shows, top to bottom: the order of the API traffic (VIP, haproxy, API server, etcd). */
export const ROLE_ORDER = ['loadbalancer', 'control-plane', 'etcd', 'worker'] as const;
/** A role as the picture draws it. */
export type RoleKey = (typeof ROLE_ORDER)[number];

/** The kubelet's port (the API servers reach every node there). */
const KUBELET_PORT = KUBERNETES_PORTS.find((p) => p.what === 'kubelet')!.port;

/** Workers-only hosts are drawn one by one up to this many; beyond, as one box with their count. */
export const MAX_DRAWN_WORKERS = 48;
/** A rollout step names its hosts up to this many; beyond, the first ones, the last and the count. */
const MAX_NAMED_IN_STEP = 10;

/** One role of one host: what runs there for it. */
export interface RoleSlot {
  role: RoleKey;
  title: string;
  detail: string[];
}

/** One host as drawn: its name, address, rollout step (1-based) and roles. */
export interface HostView {
  name: string;
  address: string;
  step: number;
  slots: RoleSlot[];
}

/** The hosts that run only workloads: drawn one by one, or (more than MAX_DRAWN_WORKERS) as a count. */
export interface WorkersView {
  count: number;
  drawn: HostView[];
  /** Every worker's name, in inventory order (the count's tooltip). */
  names: string[];
  first: string;
  last: string;
  steps: number[];
  title: string;
}

/** Who answers at the control-plane endpoint: the VIP's holders (initial MASTER first), or the one API server. */
export interface EndpointView {
  title: string;
  lines: string[];
  holders: { host: string; label: string }[];
}

/** The whole picture as data. */
export interface ClusterView {
  name: string;
  headline: string;
  facts: string[];
  endpoint: EndpointView;
  /** Hosts with a role besides worker, in the order of ROLE_ORDER (inventory order within). */
  columns: HostView[];
  workers: WorkersView | null;
  /** The labels of the links between tiers. */
  links: { toApi: string; toEtcd: string; ring: string };
  rollout: { number: number; title: string; hosts: string }[];
  ports: string[];
}

/** Whether a host runs workloads only (drawn among the workers, not as a column). */
export function isWorkerOnly(host: HostModel): boolean {
  return host.isWorker && !host.isControlPlane && !host.isEtcd && !host.isLoadBalancer;
}

/** The picture's data for a model. */
export function clusterView(model: ClusterModel): ClusterView {
  const rank = (h: HostModel) => ROLE_ORDER.findIndex((r) => slotOf(model, h, r) !== null);
  const columns = model.hosts
    .filter((h) => !isWorkerOnly(h))
    .map((h, i) => ({ h, i }))
    .sort((a, b) => rank(a.h) - rank(b.h) || a.i - b.i)
    .map(({ h }) => hostView(model, h));
  const c = model.cluster;
  return {
    name: c.name,
    headline: `${c.name} · Kubernetes ${c.kubernetesVersion}`,
    facts: [
      `${c.containerRuntime === 'docker' ? 'docker + cri-dockerd' : 'containerd'} · kube-proxy ${c.kubeProxyMode} · flannel ${c.cni.backend} · etcd ${model.etcd.version}`,
      `pods ${c.podSubnet} · services ${c.serviceSubnet} · DNS ${c.dnsDomain}`,
    ],
    endpoint: endpointView(model),
    columns,
    workers: workersView(model),
    links: { toApi: `haproxy → :${API_SERVER_PORT}`, toEtcd: `→ etcd :${model.etcd.clientPort}`, ring: `peers :${model.etcd.peerPort}` },
    rollout: model.runOrder.map((step, i) => ({ number: i + 1, title: step.title, hosts: nameList(step.hosts) })),
    ports: portsOf(model),
  };
}

function hostView(model: ClusterModel, host: HostModel): HostView {
  const slots = ROLE_ORDER.map((role) => slotOf(model, host, role)).filter((s): s is RoleSlot => s !== null);
  return { name: host.name, address: host.address, step: host.step + 1, slots };
}

/** What one role runs on a host, or null when the host does not have it. */
function slotOf(model: ClusterModel, host: HostModel, role: RoleKey): RoleSlot | null {
  const lb = model.loadBalancer;
  if (role === 'loadbalancer' && host.isLoadBalancer && lb) {
    const state = host.vrrpPriority === topPriority(model) ? 'initial MASTER' : 'BACKUP';
    return { role, title: 'keepalived + haproxy', detail: [`:${lb.port} → :${API_SERVER_PORT}`, `${state} · priority ${host.vrrpPriority}`] };
  }
  if (role === 'control-plane' && host.isControlPlane)
    return { role, title: `kube-apiserver :${API_SERVER_PORT}`, detail: ['controller-manager, scheduler', host.isInit ? 'kubeadm init' : 'kubeadm join'] };
  if (role === 'etcd' && host.isEtcd)
    return { role, title: `etcd ${model.etcd.version}`, detail: [`client :${model.etcd.clientPort}`, `peer :${model.etcd.peerPort}`] };
  if (role === 'worker' && host.isWorker) return { role, title: 'worker', detail: [`kubelet :${KUBELET_PORT}`, 'pods run here'] };
  return null;
}

/** The highest VRRP priority: the load balancer that is MASTER when all start together. */
function topPriority(model: ClusterModel): number {
  return Math.max(...model.hosts.map((h) => h.vrrpPriority ?? -1));
}

function endpointView(model: ClusterModel): EndpointView {
  const lb = model.loadBalancer;
  const loadBalancers = model.hosts.filter((h) => h.isLoadBalancer && h.vrrpPriority !== null);
  if (!lb) {
    const { host, port } = model.controlPlaneEndpoint;
    return { title: `API ${host}:${port}`, lines: ['one control plane, no VIP'], holders: [{ host: model.init.name, label: 'kube-apiserver' }] };
  }
  const title = `VIP ${lb.vip}:${lb.port}`;
  const named = lb.dnsName ? [`${lb.dnsName} → VIP`] : [];
  if (loadBalancers.length === 0) {
    // The inventory's rules warn: a load balancer outside the inventory serves the VIP, in front of every API server.
    const holders = model.controlPlanes.map((h) => ({ host: h.name, label: `:${API_SERVER_PORT}` }));
    return { title, lines: [...named, 'served by a load balancer outside this inventory'], holders };
  }
  const top = topPriority(model);
  return {
    title,
    lines: [...named, `keepalived VRRP ${lb.vrrp} · router id ${lb.virtualRouterId}`],
    holders: [...loadBalancers]
      .sort((a, b) => b.vrrpPriority! - a.vrrpPriority!)
      .map((h) => ({ host: h.name, label: h.vrrpPriority === top ? 'MASTER' : 'BACKUP' })),
  };
}

function workersView(model: ClusterModel): WorkersView | null {
  const workers = model.hosts.filter(isWorkerOnly);
  if (workers.length === 0) return null;
  const { host, port } = model.controlPlaneEndpoint;
  return {
    count: workers.length,
    drawn: workers.length > MAX_DRAWN_WORKERS ? [] : workers.map((h) => hostView(model, h)),
    names: workers.map((h) => h.name),
    first: workers[0]!.name,
    last: workers.at(-1)!.name,
    steps: [...new Set(workers.map((h) => h.step + 1))].sort((a, b) => a - b),
    title: `${workers.length === 1 ? '1 worker' : `${workers.length} workers`} · kubelet :${KUBELET_PORT} · kubeadm join via ${host}:${port}`,
  };
}

/** Host names as a list; a long one as its first names, an ellipsis, the last name and the count. */
export function nameList(names: readonly string[]): string {
  if (names.length <= MAX_NAMED_IN_STEP) return names.join(', ');
  return `${names.slice(0, 3).join(', ')}, … ${names.at(-1)} (${names.length} hosts)`;
}

/** The ports that cross between hosts, in words. */
function portsOf(model: ClusterModel): string[] {
  const lb = model.loadBalancer;
  const flannel = FLANNEL_BACKEND_PORTS[model.cluster.cni.backend].map((p) => `${p}/udp flannel ${model.cluster.cni.backend}`);
  return [
    ...(lb && model.hosts.some((h) => h.isLoadBalancer) ? [`${lb.port}/tcp VIP → haproxy`, 'VRRP (IP protocol 112) between load balancers'] : []),
    `${API_SERVER_PORT}/tcp kube-apiserver`,
    `${model.etcd.clientPort}/tcp etcd client`,
    `${model.etcd.peerPort}/tcp etcd peer`,
    `${KUBELET_PORT}/tcp kubelet`,
    ...flannel,
  ];
}
