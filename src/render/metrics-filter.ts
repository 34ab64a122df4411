/**
 * Metrics ports kept to the cluster, the mechanism: a port answers only the cluster's hosts and pods, through an
 * nftables table kubeha owns on each host, loaded at boot by a oneshot unit ordered before the daemon. One template
 * set; the filters themselves are etcd's (etcd-metrics.ts) and kube-proxy's (kube-proxy-metrics.ts).
 */
import { collapseAddresses } from '../common/cidr.js';
import type { ClusterModel } from '../model/types.js';
import { NFT_CHECK } from './config-checks.js';
import type { Artifact, HostFilter, RenderContext, Step } from './context.js';
import { renderTemplate, shellQuote } from './templates.js';

/** One filtered metrics port: who serves it, on which hosts, and the names kubeha gives its table, unit and rules. */
export interface MetricsFilter {
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
export function namedFilter(component: string, rest: Omit<MetricsFilter, 'component' | 'table' | 'unit' | 'rules'>): MetricsFilter {
  return {
    component,
    table: `kubeha_${component.replace(/-/g, '_')}_metrics`,
    unit: `kubeha-${component}-metrics-filter.service`,
    rules: `/etc/kubeha/${component}-metrics.nft`,
    ...rest,
  };
}

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

/** The files of the filters: each one's rules and unit, on the hosts it is for. */
export const metricsFilterArtifacts = (filters: readonly MetricsFilter[]): Artifact[] =>
  filters.flatMap((f) => [
    { path: f.rules, mode: 0o644, when: f.when, render: (ctx: RenderContext) => renderFilter(f, ctx), check: NFT_CHECK },
    { path: unitPath(f), mode: 0o644, when: f.when, render: (ctx: RenderContext) => renderFilterUnit(f, ctx) },
  ]);

/** The run.sh steps of the filters: nftables installed, then each filter loaded, in the order given. */
export function metricsFilterSteps(filters: readonly MetricsFilter[]): Step[] {
  const anyFilter: HostFilter = (host, model) => filters.some((f) => f.when(host, model));
  return [
    {
      phase: 'packages',
      name: 'nftables for the metrics filters',
      when: anyFilter,
      script: (ctx) => renderTemplate(ctx.templates, 'etcd/metrics-filter-package.sh.ejs', { packages: 'nftables' }),
    },
    ...filters.map(filterStep),
  ];
}
