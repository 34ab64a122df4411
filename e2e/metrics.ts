/**
 * The kube-prometheus addon on booted hosts: etcd members and load balancers serve Prometheus text to a cluster host,
 * and an address outside the cluster gets nothing from etcd (its nftables filter drops it) and 403 from haproxy.
 */
import { readInventory } from '../src/cli/inventory-file.js';
import type { Testbed } from './booted.js';
import type { PlanHost } from './bundles.js';
import { unitState } from './checks.js';

/** The metrics ports the inventory sets, or null when addons.kubePrometheus is off. */
export interface MetricsPorts {
  etcd: number;
  /** null without load balancers (an external endpoint). */
  haproxy: number | null;
}

/** The addon's ports from the inventory file (read the way gen reads it). */
export function metricsPortsOf(inventoryPath: string): MetricsPorts | null {
  const { model } = readInventory(inventoryPath, new Date());
  return model.addons.kubePrometheus.enabled ? { etcd: model.etcd.metricsPort, haproxy: model.loadBalancer?.metricsPort ?? null } : null;
}

/** Status and body of a plain HTTP GET from a host's network namespace, from its own address or `source`. */
function scrape(bed: Testbed, fromHost: string, url: string, source?: string): { status: string; body: string } {
  const via = source ? ['--interface', source] : [];
  const r = bed.netExec(fromHost, ['curl', '-s', '--max-time', '3', ...via, '-w', '\n%{http_code}', url], 10_000);
  const lines = r.stdout.split('\n');
  return { status: r.status === 0 ? lines.pop()! : `curl exit ${r.status}`, body: lines.join('\n') };
}

/** An address of the client's /24 that no host of the plan has (above .127: outside the inventory's nodeNetworks): the stranger the filters must keep out. */
function strangerOf(client: PlanHost, hosts: readonly PlanHost[], vip: string): string {
  const prefix = client.address.replace(/\.\d+$/, '');
  const taken = new Set([...hosts.map((h) => h.address), vip]);
  const free = [222, 223, 224].map((n) => `${prefix}.${n}`).find((a) => !taken.has(a));
  if (!free) throw new Error(`no free stranger address in ${prefix}.0/24`);
  return free;
}

/** What must hold for one kind of metrics endpoint: a cluster host scrapes it, a stranger gets `strangerGets`. */
function checkEndpoint(bed: Testbed, client: string, stranger: string, url: string, metric: string, strangerGets: RegExp): void {
  const inside = scrape(bed, client, url);
  if (inside.status !== '200' || !inside.body.includes(metric))
    throw new Error(`${url} from ${client}: ${inside.status}, ${metric} ${inside.body.includes(metric) ? 'present' : 'missing'}`);
  const outside = scrape(bed, client, url, stranger);
  if (!strangerGets.test(outside.status)) throw new Error(`${url} from the stranger ${stranger}: ${outside.status}, expected ${strangerGets}`);
}

/** The hosts the check needs. */
export interface MetricsCast {
  etcd: readonly PlanHost[];
  lbs: readonly PlanHost[];
  client: PlanHost;
  hosts: readonly PlanHost[];
  vip: string;
}

/** CHECK metrics: every member and load balancer scraped from the client; a stranger dropped by etcd's filter (curl times out) and refused by haproxy (403). */
export async function checkMetrics(bed: Testbed, cast: MetricsCast, ports: MetricsPorts, say: (line: string) => void): Promise<void> {
  const stranger = strangerOf(cast.client, cast.hosts, cast.vip);
  const iface = bed.host(cast.client.name).iface;
  bed.netExec(cast.client.name, ['ip', 'addr', 'add', `${stranger}/32`, 'dev', iface]);
  try {
    for (const m of cast.etcd) {
      const filter = await unitState(bed, m.name, 'kubeha-etcd-metrics-filter.service');
      if (!filter.includes('ActiveState=active')) throw new Error(`${m.name}: kubeha-etcd-metrics-filter.service is not active (${filter})`);
      checkEndpoint(bed, cast.client.name, stranger, `http://${m.address}:${ports.etcd}/metrics`, 'etcd_server_has_leader', /^curl exit 28$/);
    }
    for (const lb of ports.haproxy === null ? [] : cast.lbs)
      checkEndpoint(bed, cast.client.name, stranger, `http://${lb.address}:${ports.haproxy}/metrics`, 'haproxy_process_', /^403$/);
  } finally {
    bed.netExec(cast.client.name, ['ip', 'addr', 'del', `${stranger}/32`, 'dev', iface]);
  }
  say(
    `CHECK metrics (addons.kubePrometheus): ${cast.etcd.length} etcd members on :${ports.etcd} and ${cast.lbs.length} load balancers on :${ports.haproxy} serve Prometheus text to ${cast.client.name}; ` +
      `the stranger ${stranger} is dropped by etcd's filter (its unit active under systemd) and refused by haproxy (403)`,
  );
}
