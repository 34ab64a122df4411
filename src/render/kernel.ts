/** Kernel modules and sysctls for Kubernetes nodes, declared as data. */
import type { ClusterModel } from '../model/types.js';
import type { RenderContext } from './context.js';
import { renderTemplate } from './templates.js';

/** A kernel module to load at boot and before the sysctls, with why it is needed. */
export interface KernelModule {
  name: string;
  why: string;
  when: (model: ClusterModel) => boolean;
  /**
   * How to tell the module's feature is in the kernel, loaded or built in (a built-in module may have no /sys/module
   * entry, and a container sees none): a /proc path that then exists, or `filesystem:NAME` listed in /proc/filesystems.
   */
  present?: string;
}

/** A sysctl key that exists on current kernels, with its value and why. */
export interface Sysctl {
  key: string;
  value: string;
  why: string;
}

const always = () => true;
const ipvs = (m: ClusterModel) => m.cluster.kubeProxyMode === 'ipvs';

/** Modules every node loads; the ipvs set only in ipvs mode. */
export const KERNEL_MODULES: readonly KernelModule[] = [
  { name: 'overlay', why: 'containerd overlayfs snapshotter', when: always, present: 'filesystem:overlay' },
  {
    name: 'br_netfilter',
    why: 'bridged pod traffic passes iptables (net.bridge.* sysctls)',
    when: always,
    present: '/proc/sys/net/bridge/bridge-nf-call-iptables',
  },
  { name: 'ip_vs', why: 'kube-proxy ipvs mode', when: ipvs, present: '/proc/net/ip_vs' },
  { name: 'ip_vs_rr', why: 'ipvs round-robin scheduler', when: ipvs },
  { name: 'ip_vs_wrr', why: 'ipvs weighted round-robin scheduler', when: ipvs },
  { name: 'ip_vs_sh', why: 'ipvs source-hashing scheduler', when: ipvs },
  { name: 'nf_conntrack', why: 'connection tracking for ipvs', when: ipvs, present: '/proc/sys/net/netfilter/nf_conntrack_max' },
];

/** Sysctls every Kubernetes node sets. */
export const NODE_SYSCTLS: readonly Sysctl[] = [
  { key: 'net.bridge.bridge-nf-call-iptables', value: '1', why: 'pod traffic on the bridge passes iptables' },
  { key: 'net.bridge.bridge-nf-call-ip6tables', value: '1', why: 'the same for IPv6' },
  { key: 'net.ipv4.ip_forward', value: '1', why: 'nodes route pod traffic' },
  { key: 'fs.inotify.max_user_watches', value: '524288', why: 'kubelet and pods watch many files' },
  { key: 'fs.inotify.max_user_instances', value: '8192', why: 'one inotify instance per watching container' },
];

/** The neighbour (ARP) table's thresholds of the inventory (cluster.neighborTable), as sysctls. */
export function neighborSysctls(model: ClusterModel): Sysctl[] {
  const t = model.cluster.neighborTable;
  return [
    { key: 'net.ipv4.neigh.default.gc_thresh1', value: String(t.gcThresh1), why: 'neighbour table: below this many entries none is collected' },
    { key: 'net.ipv4.neigh.default.gc_thresh2', value: String(t.gcThresh2), why: 'neighbour table: above this many, entries older than 5 s are collected' },
    { key: 'net.ipv4.neigh.default.gc_thresh3', value: String(t.gcThresh3), why: 'neighbour table: the most entries (one per node and pod a node talks to)' },
  ];
}

/** The modules this cluster's nodes load. */
export function modulesFor(model: ClusterModel): KernelModule[] {
  return KERNEL_MODULES.filter((m) => m.when(model));
}

/** /etc/modules-load.d/kubernetes.conf */
export function renderModulesLoad(ctx: RenderContext): string {
  return renderTemplate(ctx.templates, 'modules-load.conf.ejs', { modules: modulesFor(ctx.model) });
}

/** /etc/sysctl.d/99-kubernetes.conf */
export function renderSysctl(ctx: RenderContext): string {
  return renderTemplate(ctx.templates, 'sysctl.conf.ejs', { sysctls: [...NODE_SYSCTLS, ...neighborSysctls(ctx.model)] });
}
