/** Named rules about the ports each host listens on: no two listeners on one port and address, none in the NodePort range. */
import { defaultKubePrometheusFor, kubePrometheusHostPorts } from '../common/kube-prometheus-releases.js';
import { hostLocalPorts, kubernetesPorts, NODE_PORT_RANGE } from '../common/ports.js';
import { minorOf } from '../common/versions.js';
import type { Problem } from './problems.js';
import type { Rule } from './rules.js';
import type { Inventory, Role } from './types.js';

const error = (path: string, message: string): Problem => ({ pointer: path, message, severity: 'error' });

/** Where a listener binds: every address, 127.0.0.1 only, or the host's own address only. */
type Bind = 'any' | 'loopback' | 'address';

/** A port a host listens on, what listens, where it binds, and the inventory field that sets it (null: fixed). */
interface HostPort {
  port: number;
  what: string;
  on: Bind;
  path: string | null;
}

/** Whether two listeners of one port take the same socket: one binds every address, or both bind the same one. */
const overlap = (a: Bind, b: Bind): boolean => a === 'any' || b === 'any' || a === b;

/** Host ports the addons listen on on every Kubernetes node: kube-prometheus's node-exporter, of the release it installs. */
function addonHostPorts(inv: Inventory): HostPort[] {
  const addon = inv.addons.kubePrometheus;
  if (!addon.enabled) return [];
  const version = addon.version ?? defaultKubePrometheusFor(minorOf(inv.cluster.kubernetesVersion));
  return version === undefined ? [] : kubePrometheusHostPorts(version).map((p) => ({ ...p, path: null }));
}

/** Host ports each role listens on; the fixed ones count as bound to every address. */
function portsOf(inv: Inventory, roles: Role[]): HostPort[] {
  const node = roles.includes('control-plane') || roles.includes('worker');
  const fixed = [...hostLocalPorts({ node }), ...kubernetesPorts({ controlPlane: roles.includes('control-plane'), node: roles.includes('worker') })];
  const ports: HostPort[] = [...fixed.map(({ port, what }): HostPort => ({ port, what, on: 'any', path: null })), ...(node ? addonHostPorts(inv) : [])];
  const metrics = inv.addons.kubePrometheus.enabled;
  if (roles.includes('etcd')) {
    ports.push(
      { port: inv.etcd.clientPort, what: 'etcd clients', on: 'any', path: '/etcd/clientPort' },
      { port: inv.etcd.peerPort, what: 'etcd peers', on: 'address', path: '/etcd/peerPort' },
    );
    if (metrics) ports.push({ port: inv.etcd.metricsPort, what: 'etcd metrics', on: 'address', path: '/etcd/metricsPort' });
  }
  const lb = inv.loadBalancer;
  if (roles.includes('loadbalancer') && lb) {
    ports.push({ port: lb.port, what: 'haproxy', on: 'any', path: '/loadBalancer/port' });
    if (lb.stats.enabled) ports.push({ port: lb.stats.port, what: 'haproxy stats', on: 'loopback', path: '/loadBalancer/stats/port' });
    if (metrics) ports.push({ port: lb.metricsPort, what: 'haproxy metrics', on: 'address', path: '/loadBalancer/metricsPort' });
  }
  return ports;
}

/** Each collision on one host, reported once per field and port: the earlier listener named first. */
function collisions(inv: Inventory): Problem[] {
  const problems: Problem[] = [];
  const reported = new Set<string>();
  for (const host of inv.hosts) {
    const earlier: HostPort[] = [];
    for (const p of portsOf(inv, host.roles)) {
      const other = earlier.find((e) => e.port === p.port && overlap(e.on, p.on));
      earlier.push(p);
      const where = p.path ?? '/hosts';
      if (!other || reported.has(`${where} ${p.port}`)) continue;
      reported.add(`${where} ${p.port}`);
      problems.push(error(where, `port ${p.port} is used by both ${other.what} and ${p.what} on host "${host.name}"`));
    }
  }
  return problems;
}

/** The port rules, in the order they report. */
export const portRules: readonly Rule[] = [
  { name: 'ports do not collide on a host', check: collisions },
  {
    name: 'listening ports outside the NodePort range on nodes',
    check: (inv) => {
      const nodes = inv.hosts.filter((h) => h.roles.includes('control-plane') || h.roles.includes('worker'));
      const inRange = new Map(
        nodes
          .flatMap((h) => portsOf(inv, h.roles))
          .filter(({ port, path }) => path !== null && port >= NODE_PORT_RANGE.first && port <= NODE_PORT_RANGE.last)
          .map(({ port, what, path }) => [
            path!,
            `port ${port} (${what}) lies in the NodePort range ${NODE_PORT_RANGE.first}-${NODE_PORT_RANGE.last}, which kube-proxy gives to services on every Kubernetes node: choose a port outside it`,
          ]),
      );
      return [...inRange].map(([path, message]) => error(path, message));
    },
  },
];
