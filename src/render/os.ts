/** Host preparation as data: the managed /etc/hosts block and the firewall openings each role needs. */
import type { ClusterModel, HostModel } from '../model/types.js';
import { KUBE_PROXY_METRICS_PORT, kubernetesPorts, NODE_PORT_RANGE } from '../common/ports.js';
import { FLANNEL_BACKEND_PORTS } from './flannel.js';

/** Markers around the block kubeha manages in /etc/hosts. */
export const HOSTS_MARKERS = { begin: '# BEGIN kubeha', end: '# END kubeha' } as const;

const infrastructureLines = new WeakMap<ClusterModel, string[]>();

/**
 * The managed /etc/hosts block: the cluster's infrastructure hosts (control planes, etcd members, load
 * balancers), this host itself, and the endpoint's DNS name on the VIP. Workers do not list each other: adding
 * a worker changes that worker's bundle only, and the block stays small on large clusters.
 */
export function hostsBlock(model: ClusterModel, host: HostModel): string {
  let lines = infrastructureLines.get(model);
  if (!lines) {
    lines = model.hosts.filter(isInfrastructure).map((h) => `${h.address} ${h.name}`);
    if (model.loadBalancer?.dnsName) lines.push(`${model.loadBalancer.vip} ${model.loadBalancer.dnsName}`);
    infrastructureLines.set(model, lines);
  }
  const own = isInfrastructure(host) ? [] : [`${host.address} ${host.name}`];
  return [HOSTS_MARKERS.begin, ...own, ...lines, HOSTS_MARKERS.end].join('\n');
}

function isInfrastructure(host: HostModel): boolean {
  return host.isControlPlane || host.isEtcd || host.isLoadBalancer;
}

/** An opening in the host firewall: a TCP/UDP port or range (`30000-32767`), or an IP protocol such as vrrp (112). */
export interface FirewallOpening {
  protocol: 'tcp' | 'udp' | 'vrrp';
  /** A port or an inclusive range `low-high`; absent for a bare IP protocol. */
  port?: string;
  why: string;
}

/** A rule of the firewall list: which hosts need which openings. */
interface FirewallRule {
  when: (host: HostModel, model: ClusterModel) => boolean;
  openings: (model: ClusterModel) => FirewallOpening[];
}

const tcp = (port: number | string, why: string): FirewallOpening => ({ protocol: 'tcp', port: String(port), why });

/** The firewall openings of every role, declared once. */
export const FIREWALL_RULES: readonly FirewallRule[] = [
  {
    when: (h) => h.isControlPlane,
    openings: () => kubernetesPorts({ controlPlane: true, node: true }).map((p) => tcp(p.port, p.what)),
  },
  {
    when: (h) => h.isKubernetesNode,
    openings: () => [
      ...kubernetesPorts({ controlPlane: false, node: true }).map((p) => tcp(p.port, p.what)),
      tcp(`${NODE_PORT_RANGE.first}-${NODE_PORT_RANGE.last}`, 'NodePort services'),
    ],
  },
  {
    when: (h) => h.isKubernetesNode,
    openings: (m) =>
      FLANNEL_BACKEND_PORTS[m.cluster.cni.backend].map((port) => ({ protocol: 'udp' as const, port: String(port), why: `flannel ${m.cluster.cni.backend}` })),
  },
  {
    when: (h) => h.isEtcd,
    openings: (m) => [tcp(m.etcd.clientPort, 'etcd clients'), tcp(m.etcd.peerPort, 'etcd peers')],
  },
  {
    // Narrowed to the cluster's hosts and pods by kubeha's own nftables table (render/etcd-metrics.ts).
    when: (h, m) => h.isEtcd && m.addons.kubePrometheus.enabled,
    openings: (m) => [tcp(m.etcd.metricsPort, 'etcd metrics for kube-prometheus')],
  },
  {
    // Narrowed the same way (render/etcd-metrics.ts): kube-proxy's metrics listen on every address with the addon.
    when: (h, m) => h.isKubernetesNode && m.addons.kubePrometheus.enabled,
    openings: () => [tcp(KUBE_PROXY_METRICS_PORT, 'kube-proxy metrics for kube-prometheus')],
  },
  {
    // Narrowed by an ACL in haproxy.cfg to the cluster's hosts and pods.
    when: (h, m) => h.isLoadBalancer && m.addons.kubePrometheus.enabled,
    openings: (m) => (m.loadBalancer ? [tcp(m.loadBalancer.metricsPort, 'haproxy metrics for kube-prometheus')] : []),
  },
  {
    when: (h) => h.isLoadBalancer,
    openings: (m) => [
      ...(m.loadBalancer ? [tcp(m.loadBalancer.port, 'haproxy in front of the API servers')] : []),
      { protocol: 'vrrp', why: 'keepalived VRRP adverts (IP protocol 112)' },
    ],
  },
];

/** The openings one host needs, without duplicates, in declaration order. */
export function firewallOpenings(model: ClusterModel, host: HostModel): FirewallOpening[] {
  const seen = new Set<string>();
  return FIREWALL_RULES.filter((r) => r.when(host, model))
    .flatMap((r) => r.openings(model))
    .filter((o) => {
      const key = `${o.protocol}:${o.port ?? ''}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** firewalld arguments for the openings: `--add-port=6443/tcp` style ports and `--add-protocol=vrrp` protocols. */
export function firewalldSpec(openings: readonly FirewallOpening[]): { ports: string[]; protocols: string[] } {
  return {
    ports: openings.filter((o) => o.port !== undefined).map((o) => `${o.port}/${o.protocol}`),
    protocols: openings.filter((o) => o.port === undefined).map((o) => o.protocol),
  };
}

/** IP protocol numbers of the bare protocols (/etc/protocols). */
export const IP_PROTOCOL_NUMBERS = { vrrp: 112 } as const;

/** The file ufw loads raw iptables rules from before its own (iptables-restore format). */
export const UFW_BEFORE_RULES = '/etc/ufw/before.rules';

/**
 * ufw arguments: `6443/tcp`, ranges as `30000:32767/tcp`; bare IP protocols as raw before.rules lines, since ufw
 * 0.36.1 (Ubuntu 22.04) rejects `ufw allow proto vrrp` (vrrp came with 0.36.2), each with the iptables -C arguments
 * that ask whether the running rules hold it.
 */
export function ufwSpec(openings: readonly FirewallOpening[]): { ports: string[]; rawRules: { line: string; check: string }[] } {
  const rule = (o: FirewallOpening) => `ufw-before-input -p ${IP_PROTOCOL_NUMBERS[o.protocol as 'vrrp']} -j ACCEPT`;
  return {
    ports: openings.filter((o) => o.port !== undefined).map((o) => `${o.port!.replace('-', ':')}/${o.protocol}`),
    rawRules: openings.filter((o) => o.port === undefined).map((o) => ({ line: `-A ${rule(o)}`, check: `-C ${rule(o)}` })),
  };
}

/** Sources firewalld's trusted zone gets: pod and service ranges on Kubernetes nodes, so forwarded pod traffic passes. */
export function trustedSources(model: ClusterModel, host: HostModel): string[] {
  return host.isKubernetesNode ? [model.cluster.podSubnet, model.cluster.serviceSubnet] : [];
}
