/** Inventory → ClusterModel: roles, the init node, the endpoint, etcd peers, VRRP priorities, run order. */
import { createHash } from 'node:crypto';
import type { Inventory, InventoryHost } from '../inventory/types.js';
import type { ClusterModel, EtcdMember, HostModel, RunStep } from './types.js';
import { API_SERVER_PORT } from '../common/ports.js';
import { kubeadmApiFor, minorOf } from '../common/versions.js';

/** CRI socket of each container runtime. */
export const CRI_SOCKETS = {
  containerd: 'unix:///var/run/containerd/containerd.sock',
  docker: 'unix:///var/run/cri-dockerd.sock',
} as const;

/** Highest VRRP priority; later load balancers get one less each. */
export const VRRP_TOP_PRIORITY = 150;

/** A VRRP router id in 1..255 derived from the cluster name, stable across runs. */
export function derivedRouterId(clusterName: string): number {
  return (createHash('sha256').update(clusterName).digest().readUInt16BE(0) % 255) + 1;
}

/** Builds the model of a validated inventory. */
export function buildModel(inv: Inventory): ClusterModel {
  const minor = minorOf(inv.cluster.kubernetesVersion);
  const loadBalancers = inv.hosts.filter((h) => h.roles.includes('loadbalancer'));
  const firstControlPlane = inv.hosts.find((h) => h.roles.includes('control-plane'));
  if (!firstControlPlane) throw new Error('buildModel needs a validated inventory with a control plane');
  const steps = runSteps(inv, firstControlPlane);
  const hosts = inv.hosts.map((h) => hostModel(inv, h, firstControlPlane, loadBalancers, steps));
  const lb = inv.loadBalancer ? { ...inv.loadBalancer, virtualRouterId: inv.loadBalancer.virtualRouterId ?? derivedRouterId(inv.cluster.name) } : null;
  const members = inv.hosts
    .filter((h) => h.roles.includes('etcd'))
    .map(
      (h): EtcdMember => ({
        name: h.name,
        address: h.address,
        clientURL: `https://${h.address}:${inv.etcd.clientPort}`,
        peerURL: `https://${h.address}:${inv.etcd.peerPort}`,
      }),
    );
  return {
    cluster: { ...inv.cluster, minor, kubeadmApiVersion: kubeadmApiFor(minor), criSocket: CRI_SOCKETS[inv.cluster.containerRuntime] },
    loadBalancer: lb,
    controlPlaneEndpoint: lb ? { host: lb.dnsName ?? lb.vip, port: lb.port } : { host: firstControlPlane.address, port: API_SERVER_PORT },
    etcd: {
      ...inv.etcd,
      members,
      initialCluster: members.map((m) => `${m.name}=${m.peerURL}`).join(','),
      clientEndpoints: members.map((m) => m.clientURL),
    },
    addons: inv.addons,
    hosts,
    init: hosts.find((h) => h.isInit)!,
    controlPlanes: hosts.filter((h) => h.isControlPlane),
    runOrder: steps.map(({ title, hosts: names }) => ({ title, hosts: names })),
    mirrors: { ...inv.mirrors, registries: new Map(Object.entries(inv.mirrors?.registries ?? {})) },
    ansible: inv.ansible,
  };
}

function hostModel(inv: Inventory, h: InventoryHost, init: InventoryHost, loadBalancers: InventoryHost[], steps: RunStep[]): HostModel {
  const has = (role: string) => h.roles.some((r) => r === role);
  const lbIndex = loadBalancers.indexOf(h);
  return {
    name: h.name,
    address: h.address,
    roles: h.roles,
    interface: h.interface ?? inv.loadBalancer?.interface ?? null,
    isControlPlane: has('control-plane'),
    isWorker: has('worker'),
    isEtcd: has('etcd'),
    isLoadBalancer: has('loadbalancer'),
    isKubernetesNode: has('control-plane') || has('worker'),
    isInit: h === init,
    vrrpPriority: lbIndex >= 0 ? VRRP_TOP_PRIORITY - lbIndex : null,
    vrrpPeers: lbIndex >= 0 ? loadBalancers.filter((o) => o !== h).map((o) => o.address) : [],
    step: steps.findIndex((s) => s.hosts.includes(h.name)),
  };
}

/** The bring-up order: etcd, load balancers, the first control plane, the other control planes, workers. */
function runSteps(inv: Inventory, init: InventoryHost): RunStep[] {
  const placed = new Set<string>();
  const take = (title: string, pick: (h: InventoryHost) => boolean): RunStep[] => {
    const names = inv.hosts.filter((h) => !placed.has(h.name) && pick(h)).map((h) => h.name);
    for (const n of names) placed.add(n);
    return names.length ? [{ title, hosts: names }] : [];
  };
  // A host runs in the step of its earliest-needed role; run.sh then waits, bounded, for what it needs.
  // etcd comes first (quorum). A control plane that is also a load balancer brings its haproxy and keepalived
  // up in its own control-plane step when the init host is a load balancer too (that one serves the VIP alone).
  const initIsLoadBalancer = init.roles.includes('loadbalancer');
  return [
    ...take('etcd members', (h) => h.roles.includes('etcd')),
    ...take('load balancers', (h) => h.roles.includes('loadbalancer') && !(initIsLoadBalancer && h.roles.includes('control-plane'))),
    ...take('first control plane (kubeadm init)', (h) => h === init),
    ...take('other control planes (kubeadm join --control-plane)', (h) => h.roles.includes('control-plane')),
    ...take('workers (kubeadm join)', () => true),
  ];
}
