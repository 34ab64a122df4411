/**
 * Metrics ports kept to the cluster: etcd's (plain HTTP on a port of its own) and kube-proxy's (every address, one
 * config for all nodes) answer only the cluster's hosts and pods, through an nftables table kubeha owns on each host,
 * loaded at boot by a oneshot unit ordered before the daemon. One declared list, one template set.
 */
import { collapseAddresses } from '../common/cidr.js';
import { KUBE_PROXY_METRICS_PORT } from '../common/ports.js';
import type { ClusterModel } from '../model/types.js';
import { NFT_CHECK } from './config-checks.js';
import type { Artifact, HostFilter, RenderContext, Step } from './context.js';
import { ETCD_UNIT, metricsEnabled } from './etcd.js';
import { renderTemplate, shellQuote } from './templates.js';

/** One filtered metrics port: who serves it, on which hosts, and the names kubeha gives its table, unit and rules. */
interface MetricsFilter {
  component: string;
  when: HostFilter;
  table: string;
  unit: string;
  rules: string;
  port: (model: ClusterModel) => number;
  /** Sources allowed besides the cluster's hosts and pod network. */
  extraSources: readonly string[];
  /** The unit it loads before, and the daemon's name in messages. */
  before: string;
  beforeName: string;
  who: (hostName: string) => string;
  what: (hostName: string) => string;
}

/** The nft program (the nftables package, same path on Debian and RHEL). */
export const NFT = '/usr/sbin/nft';

/** A filter named after its component: table kubeha_<c>_metrics, unit kubeha-<c>-metrics-filter.service, rules /etc/kubeha/<c>-metrics.nft. */
function namedFilter(component: string, rest: Omit<MetricsFilter, 'component' | 'table' | 'unit' | 'rules'>): MetricsFilter {
  return {
    component,
    table: `kubeha_${component.replace(/-/g, '_')}_metrics`,
    unit: `kubeha-${component}-metrics-filter.service`,
    rules: `/etc/kubeha/${component}-metrics.nft`,
    ...rest,
  };
}

const ETCD_FILTER = namedFilter('etcd', {
  when: (host, model) => host.isEtcd && metricsEnabled(model),
  port: (model) => model.etcd.metricsPort,
  extraSources: [],
  before: ETCD_UNIT,
  beforeName: 'etcd',
  who: (h) => `etcd member ${h}`,
  what: (h) => `etcd metrics port of member ${h}`,
});

// kube-proxy listens on 0.0.0.0: 127.0.0.1 keeps the node's own access of before (its default bind address).
const KUBE_PROXY_FILTER = namedFilter('kube-proxy', {
  when: (host, model) => host.isKubernetesNode && metricsEnabled(model),
  port: () => KUBE_PROXY_METRICS_PORT,
  extraSources: ['127.0.0.1'],
  before: 'kubelet.service',
  beforeName: 'kubelet',
  who: (h) => `kube-proxy on node ${h}`,
  what: (h) => `kube-proxy metrics port of node ${h}`,
});

/** The filters, in the order run.sh loads them. */
const FILTERS: readonly MetricsFilter[] = [ETCD_FILTER, KUBE_PROXY_FILTER];

/** The oneshot unit that loads etcd's filter at boot, before etcd. */
export const ETCD_METRICS_FILTER_UNIT = ETCD_FILTER.unit;
/** Where etcd's unit and nftables rules are installed. */
export const ETCD_METRICS_FILTER_PATHS = { unit: `/etc/systemd/system/${ETCD_FILTER.unit}`, rules: ETCD_FILTER.rules } as const;
/** The nftables table kubeha owns on each member (replaced as a whole on every load). */
export const ETCD_METRICS_TABLE = ETCD_FILTER.table;
/** Where kube-proxy's unit and nftables rules are installed on every Kubernetes node. */
export const KUBE_PROXY_METRICS_FILTER_PATHS = { unit: `/etc/systemd/system/${KUBE_PROXY_FILTER.unit}`, rules: KUBE_PROXY_FILTER.rules } as const;
/** The nftables table kubeha owns on each node for kube-proxy's metrics port. */
export const KUBE_PROXY_METRICS_TABLE = KUBE_PROXY_FILTER.table;

const q = shellQuote;
const unitPath = (f: MetricsFilter) => `/etc/systemd/system/${f.unit}`;

/**
 * Who may scrape the metrics: every host of the cluster (scrapes from pods leave other nodes masqueraded to their
 * address), the pod network (a pod on this very host) and `extra`, as the fewest CIDR blocks that hold exactly these
 * addresses (neighbouring hosts share a block), so the list grows with the gaps between the hosts, not their number.
 */
export function metricsSources(model: ClusterModel, extra: readonly string[] = []): string[] {
  return collapseAddresses([...extra, ...nodeNetworks(model), model.cluster.podSubnet]);
}

/**
 * The networks of the cluster's hosts: cluster.nodeNetworks, or the /24 of each host. Not the hosts themselves: a list
 * of them would change every host's allow-lists whenever a worker is added, where a worker in a known /24 changes none.
 */
export function nodeNetworks(model: ClusterModel): string[] {
  return model.cluster.nodeNetworks ?? model.hosts.map((h) => `${h.address}/24`);
}

/** Renders a filter's nftables rules: a drop of every other source on the metrics port. */
function renderFilter(f: MetricsFilter, ctx: RenderContext): string {
  return renderTemplate(ctx.templates, 'etcd/metrics-filter.nft.ejs', {
    who: f.who(ctx.host.name),
    clusterName: ctx.model.cluster.name,
    unit: f.unit,
    table: f.table,
    port: f.port(ctx.model),
    allowed: metricsSources(ctx.model, f.extraSources),
  });
}

/** Renders the unit that loads a filter's rules. */
function renderFilterUnit(f: MetricsFilter, ctx: RenderContext): string {
  return renderTemplate(ctx.templates, 'etcd/metrics-filter.service.ejs', {
    what: f.what(ctx.host.name),
    clusterName: ctx.model.cluster.name,
    before: f.before,
    nft: NFT,
    rules: f.rules,
  });
}

function filterStep(f: MetricsFilter): Step {
  return {
    phase: 'services',
    name: `${f.component} metrics port kept to the cluster`,
    when: f.when,
    script: (ctx) =>
      renderTemplate(ctx.templates, 'etcd/metrics-filter-step.sh.ejs', {
        what: f.what(ctx.host.name),
        beforeName: f.beforeName,
        unit: f.unit,
        unitPath: q(unitPath(f)),
        rules: q(f.rules),
      }),
  };
}

/** Files of etcd members and Kubernetes nodes when addons.kubePrometheus is on. */
export const etcdMetricsArtifacts: readonly Artifact[] = FILTERS.flatMap((f) => [
  { path: f.rules, mode: 0o644, when: f.when, render: (ctx: RenderContext) => renderFilter(f, ctx), check: NFT_CHECK },
  { path: unitPath(f), mode: 0o644, when: f.when, render: (ctx: RenderContext) => renderFilterUnit(f, ctx) },
]);

const anyFilter: HostFilter = (host, model) => FILTERS.some((f) => f.when(host, model));

/** run.sh steps: nftables installed, then each filter loaded (listed before etcd's steps, so etcd's is in place before etcd starts; kube-proxy starts in the kubeadm phase, after every service step). */
export const etcdMetricsSteps: readonly Step[] = [
  {
    phase: 'packages',
    name: 'nftables for the metrics filters',
    when: anyFilter,
    script: (ctx) => renderTemplate(ctx.templates, 'etcd/metrics-filter-package.sh.ejs', { packages: 'nftables' }),
  },
  ...FILTERS.map(filterStep),
];
