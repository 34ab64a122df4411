/** Named semantic rules run after the schema: each returns problems with JSON pointers. */
import ipaddr from 'ipaddr.js';
import { knownEtcdReleases } from '../model/etcd-releases.js';
import { compareVersions, isSupportedMinor, minExternalEtcdFor, minorOf, SUPPORTED_MINORS } from '../model/versions.js';
import { pointer, type Problem } from './problems.js';
import type { Inventory, Role } from './types.js';

/** A named check over a defaulted inventory. */
export interface Rule {
  name: string;
  check: (inventory: Inventory) => Problem[];
}

const error = (path: string, message: string): Problem => ({ pointer: path, message, severity: 'error' });
const warning = (path: string, message: string): Problem => ({ pointer: path, message, severity: 'warning' });
const hostsWith = (inv: Inventory, role: Role) => inv.hosts.map((h, i) => ({ h, i })).filter(({ h }) => h.roles.includes(role));

type Range = [ipaddr.IPv4, number];
const range = (cidr: string): Range => ipaddr.IPv4.parseCIDR(cidr) as Range;
const overlaps = (a: Range, b: Range): boolean => a[0].match(b) || b[0].match(a);
const contains = (r: Range, address: string): boolean => ipaddr.IPv4.parse(address).match(r);

function duplicates(values: string[], path: (i: number) => string, what: string): Problem[] {
  const first = new Map<string, number>();
  return values.flatMap((value, i) => {
    const earlier = first.get(value);
    if (earlier === undefined) { first.set(value, i); return []; }
    return [error(path(i), `duplicate ${what} "${value}" (also ${path(earlier)})`)];
  });
}

/** Host ports each role listens on, with the inventory field that sets each configurable one. */
function portsOf(inv: Inventory, roles: Role[]): { port: number; what: string; path: string | null }[] {
  const ports: { port: number; what: string; path: string | null }[] = [];
  const isNode = roles.includes('control-plane') || roles.includes('worker');
  if (roles.includes('control-plane')) {
    ports.push({ port: 6443, what: 'kube-apiserver', path: null }, { port: 10257, what: 'kube-controller-manager', path: null }, { port: 10259, what: 'kube-scheduler', path: null });
  }
  if (isNode) ports.push({ port: 10250, what: 'kubelet', path: null }, { port: 10256, what: 'kube-proxy', path: null });
  if (roles.includes('etcd')) {
    ports.push({ port: inv.etcd.clientPort, what: 'etcd clients', path: '/etcd/clientPort' }, { port: inv.etcd.peerPort, what: 'etcd peers', path: '/etcd/peerPort' });
  }
  if (roles.includes('loadbalancer') && inv.loadBalancer) {
    ports.push({ port: inv.loadBalancer.port, what: 'haproxy', path: '/loadBalancer/port' });
    if (inv.loadBalancer.stats.enabled) ports.push({ port: inv.loadBalancer.stats.port, what: 'haproxy stats', path: '/loadBalancer/stats/port' });
  }
  return ports;
}

const SYSTEM_DIRS = new Set(['/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/opt', '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var', '/var/lib']);

/** Every semantic rule, in the order they report. */
export const rules: readonly Rule[] = [
  {
    name: 'unique host names',
    check: (inv) => duplicates(inv.hosts.map((h) => h.name), (i) => pointer('hosts', i, 'name'), 'host name'),
  },
  {
    name: 'unique host addresses',
    check: (inv) => duplicates(inv.hosts.map((h) => h.address), (i) => pointer('hosts', i, 'address'), 'address'),
  },
  {
    name: 'usable host addresses',
    check: (inv) => inv.hosts.flatMap((h, i) => {
      const kind = ipaddr.IPv4.parse(h.address).range();
      return ['unspecified', 'broadcast', 'multicast'].includes(kind) ? [error(pointer('hosts', i, 'address'), `${h.address} is a ${kind} address, not a host address`)] : [];
    }),
  },
  {
    name: 'a control plane and an etcd member',
    check: (inv) => [
      ...(hostsWith(inv, 'control-plane').length === 0 ? [error('/hosts', 'no host has the role "control-plane": at least one is needed')] : []),
      ...(hostsWith(inv, 'etcd').length === 0 ? [error('/hosts', 'no host has the role "etcd": at least one is needed (kubeha runs an external etcd cluster)')] : []),
    ],
  },
  {
    name: 'odd etcd count',
    check: (inv) => {
      const n = hostsWith(inv, 'etcd').length;
      return n > 0 && n % 2 === 0 ? [warning('/hosts', `${n} etcd members tolerate no more failures than ${n - 1}: use an odd number`)] : [];
    },
  },
  {
    name: 'load balancer for several control planes',
    check: (inv) => hostsWith(inv, 'control-plane').length > 1 && !inv.loadBalancer
      ? [error('', 'missing key "loadBalancer": a cluster with more than one control plane needs a virtual IP in front of the API servers')] : [],
  },
  {
    name: 'loadbalancer role needs loadBalancer',
    check: (inv) => inv.loadBalancer ? [] : hostsWith(inv, 'loadbalancer').map(({ i }) => error(pointer('hosts', i, 'roles'), 'role "loadbalancer" needs the "loadBalancer" section (vip)')),
  },
  {
    name: 'load balancer hosts',
    check: (inv) => {
      if (!inv.loadBalancer) return [];
      const n = hostsWith(inv, 'loadbalancer').length;
      if (n === 0) return [warning('/loadBalancer', 'no host has the role "loadbalancer": the VIP must be served by a load balancer outside this inventory')];
      return n === 1 ? [warning('/loadBalancer', 'only one host has the role "loadbalancer": the VIP cannot fail over')] : [];
    },
  },
  {
    name: 'vip is no host address',
    check: (inv) => {
      const vip = inv.loadBalancer?.vip;
      const i = inv.hosts.findIndex((h) => h.address === vip);
      return i < 0 ? [] : [error('/loadBalancer/vip', `the VIP ${vip} is the address of host "${inv.hosts[i]!.name}" (${pointer('hosts', i, 'address')})`)];
    },
  },
  {
    name: 'ranges are network addresses',
    check: (inv) => (['podSubnet', 'serviceSubnet'] as const).flatMap((key) => {
      const [address, bits] = range(inv.cluster[key]);
      const network = ipaddr.IPv4.networkAddressFromCIDR(inv.cluster[key]).toString();
      return network === address.toString() ? [] : [error(pointer('cluster', key), `${inv.cluster[key]} has host bits set: did you mean ${network}/${bits}?`)];
    }),
  },
  {
    name: 'range sizes',
    check: (inv) => {
      const problems: Problem[] = [];
      const [, podBits] = range(inv.cluster.podSubnet);
      const nodes = inv.hosts.filter((h) => h.roles.includes('control-plane') || h.roles.includes('worker')).length;
      if (podBits > 24) problems.push(error('/cluster/podSubnet', `/${podBits} is too small: flannel gives every node a /24`));
      else if (2 ** (24 - podBits) < nodes) problems.push(error('/cluster/podSubnet', `/${podBits} holds ${2 ** (24 - podBits)} node ranges (/24 each) but the cluster has ${nodes} nodes`));
      const [, serviceBits] = range(inv.cluster.serviceSubnet);
      if (serviceBits < 12) problems.push(error('/cluster/serviceSubnet', `/${serviceBits} is too large: kube-apiserver accepts at most a /12`));
      if (serviceBits > 28) problems.push(error('/cluster/serviceSubnet', `/${serviceBits} is too small for the cluster's services`));
      return problems;
    },
  },
  {
    name: 'ranges are disjoint',
    check: (inv) => {
      const pod = range(inv.cluster.podSubnet);
      const service = range(inv.cluster.serviceSubnet);
      const problems: Problem[] = [];
      if (overlaps(pod, service)) problems.push(error('/cluster/serviceSubnet', `service subnet ${inv.cluster.serviceSubnet} overlaps the pod subnet ${inv.cluster.podSubnet}: choose disjoint ranges`));
      const inside = (address: string) => [['pod', pod, inv.cluster.podSubnet], ['service', service, inv.cluster.serviceSubnet]].filter(([, r]) => contains(r as Range, address)).map(([name, , text]) => `${name} subnet ${text}`);
      inv.hosts.forEach((h, i) => inside(h.address).forEach((where) => problems.push(error(pointer('hosts', i, 'address'), `${h.address} lies inside the ${where}`))));
      if (inv.loadBalancer) inside(inv.loadBalancer.vip).forEach((where) => problems.push(error('/loadBalancer/vip', `${inv.loadBalancer!.vip} lies inside the ${where}`)));
      return problems;
    },
  },
  {
    name: 'supported Kubernetes version',
    check: (inv) => {
      const minor = minorOf(inv.cluster.kubernetesVersion);
      if (isSupportedMinor(minor)) return [];
      return [error('/cluster/kubernetesVersion', `Kubernetes ${inv.cluster.kubernetesVersion} is not supported: use 1.${SUPPORTED_MINORS.oldest} to 1.${SUPPORTED_MINORS.newest}`)];
    },
  },
  {
    name: 'kube-proxy mode for the version',
    check: (inv) => {
      const minor = minorOf(inv.cluster.kubernetesVersion);
      const { kubeProxyMode } = inv.cluster;
      if (kubeProxyMode === 'nftables' && minor < 31) return [error('/cluster/kubeProxyMode', `nftables mode needs Kubernetes 1.31 or later (it is alpha before that); this cluster runs ${inv.cluster.kubernetesVersion}`)];
      if (kubeProxyMode === 'ipvs' && minor >= 35) return [warning('/cluster/kubeProxyMode', 'ipvs mode is deprecated since Kubernetes 1.35: prefer "nftables"')];
      return [];
    },
  },
  {
    name: 'ports do not collide on a host',
    check: (inv) => {
      const problems: Problem[] = [];
      const reported = new Set<string>();
      for (const host of inv.hosts) {
        const used = new Map<number, string>();
        for (const { port, what, path } of portsOf(inv, host.roles)) {
          const other = used.get(port);
          used.set(port, what);
          if (other === undefined) continue;
          const where = path ?? '/hosts';
          const key = `${where} ${port}`;
          if (reported.has(key)) continue;
          reported.add(key);
          problems.push(error(where, `port ${port} is used by both ${other} and ${what} on host "${host.name}"`));
        }
      }
      return problems;
    },
  },
  {
    name: 'etcd release with a known checksum',
    check: (inv) => inv.etcd.install !== 'release' || knownEtcdReleases().includes(inv.etcd.version) ? [] : [
      error('/etcd/version', `kubeha knows no SHA-256 checksum of the etcd v${inv.etcd.version} release: use one of ${knownEtcdReleases().join(', ')}, or set etcd.install to "distro"`),
    ],
  },
  {
    name: 'etcd release new enough for the Kubernetes version',
    check: (inv) => {
      const min = minExternalEtcdFor(minorOf(inv.cluster.kubernetesVersion));
      if (inv.etcd.install !== 'release' || compareVersions(inv.etcd.version, min) >= 0) return [];
      return [error('/etcd/version', `kubeadm ${inv.cluster.kubernetesVersion} refuses an external etcd older than ${min} (its preflight check ExternalEtcdVersion): use etcd ${min} or later (kubeha knows ${knownEtcdReleases().filter((v) => compareVersions(v, min) >= 0).join(', ') || 'none'})`)];
    },
  },
  {
    name: 'joining etcd needs running members',
    check: (inv) => inv.etcd.initialClusterState === 'existing' && inv.hosts.filter((h) => h.roles.includes('etcd')).length < 2
      ? [error('/etcd/initialClusterState', '"existing" adds members to a running etcd cluster: list its running members too (a single member must start as "new")')] : [],
  },
  {
    name: 'etcd data directory',
    check: (inv) => SYSTEM_DIRS.has(inv.etcd.dataDir) ? [error('/etcd/dataDir', `${inv.etcd.dataDir} is a system directory: use a directory of its own such as /var/lib/etcd`)] : [],
  },
  {
    name: 'host interface only on load balancers',
    check: (inv) => inv.hosts.flatMap((h, i) => h.interface !== undefined && !h.roles.includes('loadbalancer')
      ? [warning(pointer('hosts', i, 'interface'), `host "${h.name}" has no role "loadbalancer": its interface is not used`)] : []),
  },
];

/** Runs every rule and returns all problems, in rule order. */
export function checkRules(inventory: Inventory): Problem[] {
  return rules.flatMap((rule) => rule.check(inventory));
}
