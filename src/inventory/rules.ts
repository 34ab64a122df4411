/** Named semantic rules run after the schema: each returns problems with JSON pointers. */
import ipaddr from 'ipaddr.js';
import { ansibleHostNameProblem } from '../common/ansible-names.js';
import { hasEtcdTarball, knownEtcdReleases } from '../common/etcd-releases.js';
import { firstMinorWhere, KUBERNETES_MINORS } from '../common/kubernetes-versions.js';
import { compareVersions, isSupportedMinor, minExternalEtcdFor, minorOf, SUPPORTED_MINORS } from '../common/versions.js';
import { addonRules } from './addon-rules.js';
import { calendarProblems } from './calendar.js';
import { unusableAddress } from './addresses.js';
import { etcdTarballRules } from './etcd-tarball-rules.js';
import { mirrorRules } from './mirror-rules.js';
import { portRules } from './port-rules.js';
import { dataDirectoryProblem } from './paths.js';
import { pointer, type Problem } from './problems.js';
import type { Inventory, Role } from './types.js';

/** A named check over a defaulted inventory; `today` (YYYY-MM-DD) is the day the CLI read from its clock, for the rules about dates. */
export interface Rule {
  name: string;
  check: (inventory: Inventory, today?: string) => Problem[];
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
    if (earlier === undefined) {
      first.set(value, i);
      return [];
    }
    return [error(path(i), `duplicate ${what} "${value}" (also ${path(earlier)})`)];
  });
}

/** Seconds in a Go duration as the schema allows it (h, m and s parts). */
function durationSeconds(duration: string): number {
  const part = (unit: string) => Number(new RegExp(`([0-9]+)${unit}`).exec(duration)?.[1] ?? 0);
  return part('h') * 3600 + part('m') * 60 + part('s');
}

/** A name whose last label is all digits reads as an IPv4 address to resolvers and tools (RFC 3696 section 2). */
const looksLikeAddress = (name: string): boolean => /(^|\.)[0-9]+$/.test(name);

/** Why a snapshot folder is unfit: what makes a data folder unfit, /var/backups itself, or sharing a tree with the data dir (a restore moves its contents). */
function backupDirProblems(dir: string, dataDir: string): string[] {
  const example = '/var/backups/etcd';
  const problem =
    dataDirectoryProblem(dir, example) ?? (dir === '/var/backups' ? `${dir} is a system directory: use a directory of its own such as ${example}` : null);
  if (problem) return [problem];
  const within = (a: string, b: string) => a === b || a.startsWith(`${b}/`);
  // A data dir that is unfit is reported by its own rule; the default folder would only repeat it.
  if (dataDirectoryProblem(dataDir, '/var/lib/etcd') === null && (within(dir, dataDir) || within(dataDir, dir))) {
    return [`${dir} and the etcd data dir ${dataDir} must not contain one another: a restore moves the data dir's contents aside`];
  }
  return [];
}

/** A rule: no two hosts share the value of `field`. */
function uniqueAcrossHosts(field: 'name' | 'address', what: string): Rule {
  return {
    name: `unique host ${field === 'name' ? 'names' : 'addresses'}`,
    check: (inv) =>
      duplicates(
        inv.hosts.map((h) => h[field]),
        (i) => pointer('hosts', i, field),
        what,
      ),
  };
}

/** Every semantic rule, in the order they report. */
export const rules: readonly Rule[] = [
  uniqueAcrossHosts('name', 'host name'),
  uniqueAcrossHosts('address', 'address'),
  {
    name: 'host names the Ansible rollout can use',
    check: (inv) =>
      inv.hosts.flatMap((h, i) => {
        const why = ansibleHostNameProblem(h.name);
        return why ? [error(pointer('hosts', i, 'name'), why)] : [];
      }),
  },
  {
    name: 'usable host addresses and VIP',
    check: (inv) =>
      [
        ...inv.hosts.map((h, i) => [pointer('hosts', i, 'address'), h.address] as const),
        ...(inv.loadBalancer ? [['/loadBalancer/vip', inv.loadBalancer.vip] as const] : []),
      ].flatMap(([path, address]) => {
        const why = unusableAddress(address);
        return why ? [error(path, why)] : [];
      }),
  },
  {
    name: 'names are not addresses',
    check: (inv) =>
      [
        ...inv.hosts.map((h, i) => [pointer('hosts', i, 'name'), h.name] as const),
        ['/cluster/dnsDomain', inv.cluster.dnsDomain] as const,
        ...(inv.loadBalancer?.dnsName !== undefined ? [['/loadBalancer/dnsName', inv.loadBalancer.dnsName] as const] : []),
      ].flatMap(([path, name]) =>
        looksLikeAddress(name)
          ? [
              error(
                path,
                `"${name}" reads as an IP address (its last label is all digits): a DNS name needs a last label with a letter${path === '/loadBalancer/dnsName' ? '; an address belongs in loadBalancer.vip' : ''}`,
              ),
            ]
          : [],
      ),
  },
  {
    name: 'bootstrap token expires',
    check: (inv) =>
      durationSeconds(inv.cluster.bootstrapTokenTTL) > 0
        ? []
        : [
            error(
              '/cluster/bootstrapTokenTTL',
              `${inv.cluster.bootstrapTokenTTL} makes a bootstrap token that never expires (kubeadm reads a zero TTL as "forever"): anyone who ever sees it can join machines to the cluster; use a lifetime such as 24h0m0s`,
            ),
          ],
  },
  {
    name: 'leaf certificates end before their CA',
    check: (inv) => {
      const { caValidityDays, leafValidityDays } = inv.cluster.certificates;
      return leafValidityDays <= caValidityDays
        ? []
        : [
            error(
              '/cluster/certificates/leafValidityDays',
              `${leafValidityDays} days is longer than the CAs' ${caValidityDays} days (caValidityDays): a certificate cannot outlive the CA that signs it`,
            ),
          ];
    },
  },
  {
    name: 'a control plane and an etcd member',
    check: (inv) => [
      ...(hostsWith(inv, 'control-plane').length === 0 ? [error('/hosts', 'no host has the role "control-plane": at least one is needed')] : []),
      ...(hostsWith(inv, 'etcd').length === 0
        ? [error('/hosts', 'no host has the role "etcd": at least one is needed (kubeha runs an external etcd cluster)')]
        : []),
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
    check: (inv) =>
      hostsWith(inv, 'control-plane').length > 1 && !inv.loadBalancer
        ? [error('', 'missing key "loadBalancer": a cluster with more than one control plane needs a virtual IP in front of the API servers')]
        : [],
  },
  {
    name: 'loadbalancer role needs loadBalancer',
    check: (inv) =>
      inv.loadBalancer
        ? []
        : hostsWith(inv, 'loadbalancer').map(({ i }) => error(pointer('hosts', i, 'roles'), 'role "loadbalancer" needs the "loadBalancer" section (vip)')),
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
    check: (inv) =>
      (['podSubnet', 'serviceSubnet'] as const).flatMap((key) => {
        const [address, bits] = range(inv.cluster[key]);
        const network = ipaddr.IPv4.networkAddressFromCIDR(inv.cluster[key]).toString();
        return network === address.toString()
          ? []
          : [error(pointer('cluster', key), `${inv.cluster[key]} has host bits set: did you mean ${network}/${bits}?`)];
      }),
  },
  {
    name: 'range sizes',
    check: (inv) => {
      const problems: Problem[] = [];
      const [, podBits] = range(inv.cluster.podSubnet);
      const nodes = inv.hosts.filter((h) => h.roles.includes('control-plane') || h.roles.includes('worker')).length;
      if (podBits > 24) problems.push(error('/cluster/podSubnet', `/${podBits} is too small: flannel gives every node a /24`));
      else if (2 ** (24 - podBits) < nodes)
        problems.push(error('/cluster/podSubnet', `/${podBits} holds ${2 ** (24 - podBits)} node ranges (/24 each) but the cluster has ${nodes} nodes`));
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
      if (overlaps(pod, service))
        problems.push(
          error(
            '/cluster/serviceSubnet',
            `service subnet ${inv.cluster.serviceSubnet} overlaps the pod subnet ${inv.cluster.podSubnet}: choose disjoint ranges`,
          ),
        );
      const inside = (address: string) =>
        [
          ['pod', pod, inv.cluster.podSubnet],
          ['service', service, inv.cluster.serviceSubnet],
        ]
          .filter(([, r]) => contains(r as Range, address))
          .map(([name, , text]) => `${name} subnet ${text}`);
      for (const [i, h] of inv.hosts.entries())
        problems.push(...inside(h.address).map((where) => error(pointer('hosts', i, 'address'), `${h.address} lies inside the ${where}`)));
      if (inv.loadBalancer)
        problems.push(...inside(inv.loadBalancer.vip).map((where) => error('/loadBalancer/vip', `${inv.loadBalancer!.vip} lies inside the ${where}`)));
      return problems;
    },
  },
  {
    name: 'node networks hold the hosts',
    check: (inv) => {
      const networks = inv.cluster.nodeNetworks;
      if (!networks) return [];
      const problems: Problem[] = [];
      for (const [i, cidr] of networks.entries()) {
        const [address, bits] = range(cidr);
        const network = ipaddr.IPv4.networkAddressFromCIDR(cidr).toString();
        if (network !== address.toString())
          problems.push(error(pointer('cluster', 'nodeNetworks', i), `${cidr} has host bits set: did you mean ${network}/${bits}?`));
        for (const key of ['podSubnet', 'serviceSubnet'] as const)
          if (overlaps(range(cidr), range(inv.cluster[key])))
            problems.push(
              error(pointer('cluster', 'nodeNetworks', i), `${cidr} overlaps the ${key === 'podSubnet' ? 'pod' : 'service'} subnet ${inv.cluster[key]}`),
            );
      }
      for (const [i, h] of inv.hosts.entries())
        if (!networks.some((cidr) => contains(range(cidr), h.address)))
          problems.push(
            error(pointer('hosts', i, 'address'), `${h.address} lies in none of cluster.nodeNetworks (${networks.join(', ')}): add its network there`),
          );
      return problems;
    },
  },
  {
    name: 'supported Kubernetes version',
    check: (inv) => {
      const minor = minorOf(inv.cluster.kubernetesVersion);
      if (isSupportedMinor(minor)) return [];
      return [
        error(
          '/cluster/kubernetesVersion',
          `Kubernetes ${inv.cluster.kubernetesVersion} is not supported: use 1.${SUPPORTED_MINORS.oldest} to 1.${SUPPORTED_MINORS.newest}`,
        ),
      ];
    },
  },
  {
    name: 'Kubernetes minor past its end of life',
    check: (inv, today) => {
      const row = KUBERNETES_MINORS.find((m) => m.minor === minorOf(inv.cluster.kubernetesVersion));
      if (!row || today === undefined || today < row.endOfLife) return [];
      return [
        warning(
          '/cluster/kubernetesVersion',
          `Kubernetes 1.${row.minor} reached its upstream end of life on ${row.endOfLife}: no more patch releases, security fixes included; plan the upgrade to a supported minor (kubeha supports up to 1.${SUPPORTED_MINORS.newest}, one minor at a time)`,
        ),
      ];
    },
  },
  {
    name: 'kube-proxy mode for the version',
    check: (inv) => {
      const minor = minorOf(inv.cluster.kubernetesVersion);
      const { kubeProxyMode } = inv.cluster;
      const row = KUBERNETES_MINORS.find((m) => m.minor === minor);
      if (!row) return [];
      if (!row.kubeProxyModes.includes(kubeProxyMode)) {
        const since = firstMinorWhere((m) => m.kubeProxyModes.includes(kubeProxyMode));
        return [
          error(
            '/cluster/kubeProxyMode',
            `${kubeProxyMode} mode needs Kubernetes 1.${since} or later (it is alpha before that); this cluster runs ${inv.cluster.kubernetesVersion}`,
          ),
        ];
      }
      if (kubeProxyMode === 'ipvs' && row.ipvsDeprecated)
        return [warning('/cluster/kubeProxyMode', `ipvs mode is deprecated since Kubernetes 1.${firstMinorWhere((m) => m.ipvsDeprecated)}: prefer "nftables"`)];
      return [];
    },
  },
  ...portRules,
  {
    name: 'etcd release with a known checksum',
    check: (inv) => {
      if (inv.etcd.install !== 'release') return inv.etcd.tarballs ? [warning('/etcd/tarballs', 'etcd.install is "distro": the tarballs are not used')] : [];
      return hasEtcdTarball(inv.etcd.version, Object.keys(inv.etcd.tarballs ?? {}))
        ? []
        : [
            error(
              '/etcd/version',
              `kubeha knows no SHA-256 checksum of the etcd v${inv.etcd.version} release: use one of ${knownEtcdReleases().join(', ')}, give the tarball's URL and SHA-256 in etcd.tarballs, or set etcd.install to "distro"`,
            ),
          ];
    },
  },
  ...etcdTarballRules,
  {
    name: 'etcd release new enough for the Kubernetes version',
    check: (inv) => {
      if (inv.etcd.install !== 'release' || !isSupportedMinor(minorOf(inv.cluster.kubernetesVersion))) return [];
      const min = minExternalEtcdFor(inv.cluster.kubernetesVersion);
      if (compareVersions(inv.etcd.version, min) >= 0) return [];
      return [
        error(
          '/etcd/version',
          `kubeadm ${inv.cluster.kubernetesVersion} refuses an external etcd older than ${min} (its preflight check ExternalEtcdVersion): use etcd ${min} or later (kubeha knows ${
            knownEtcdReleases()
              .filter((v) => compareVersions(v, min) >= 0)
              .join(', ') || 'none'
          })`,
        ),
      ];
    },
  },
  {
    name: 'joining etcd needs running members',
    check: (inv) =>
      inv.etcd.initialClusterState === 'existing' && inv.hosts.filter((h) => h.roles.includes('etcd')).length < 2
        ? [
            error(
              '/etcd/initialClusterState',
              '"existing" adds members to a running etcd cluster: list its running members too (a single member must start as "new")',
            ),
          ]
        : [],
  },
  {
    name: 'etcd data directory',
    check: (inv) => {
      const problem = dataDirectoryProblem(inv.etcd.dataDir, '/var/lib/etcd');
      return problem ? [error('/etcd/dataDir', problem)] : [];
    },
  },
  {
    name: 'etcd backup schedule',
    check: (inv) => calendarProblems(inv.etcd.backup.schedule).map((m) => error('/etcd/backup/schedule', m)),
  },
  {
    name: 'etcd defragmentation schedule',
    check: (inv) => calendarProblems(inv.etcd.defrag.schedule, 'no member would ever be defragmented').map((m) => error('/etcd/defrag/schedule', m)),
  },
  {
    name: 'neighbour table thresholds in order',
    check: (inv) => {
      const { gcThresh1, gcThresh2, gcThresh3 } = inv.cluster.neighborTable;
      return [
        ...(gcThresh1 > gcThresh2
          ? [error('/cluster/neighborTable/gcThresh1', `${gcThresh1} is above gcThresh2 (${gcThresh2}): the kernel collects nothing below gcThresh1`)]
          : []),
        ...(gcThresh2 > gcThresh3
          ? [error('/cluster/neighborTable/gcThresh2', `${gcThresh2} is above gcThresh3 (${gcThresh3}), the most entries the table holds`)]
          : []),
      ];
    },
  },
  {
    name: 'etcd backup directory',
    check: (inv) => backupDirProblems(inv.etcd.backup.dir, inv.etcd.dataDir).map((m) => error('/etcd/backup/dir', m)),
  },
  {
    name: 'host interface only on load balancers',
    check: (inv) =>
      inv.hosts.flatMap((h, i) =>
        h.interface !== undefined && !h.roles.includes('loadbalancer')
          ? [warning(pointer('hosts', i, 'interface'), `host "${h.name}" has no role "loadbalancer": its interface is not used`)]
          : [],
      ),
  },
  ...mirrorRules,
  ...addonRules,
];

/** Runs every rule and returns all problems, in rule order. */
export function checkRules(inventory: Inventory, today?: string): Problem[] {
  return rules.flatMap((rule) => rule.check(inventory, today));
}
