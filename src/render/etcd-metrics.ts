/** etcd metrics for kube-prometheus: plain HTTP on a port of its own, kept to the cluster's hosts and pods by an nftables table. */
import type { ClusterModel } from '../model/types.js';
import type { Artifact, HostFilter, RenderContext, Step } from './context.js';
import { ETCD_UNIT, metricsEnabled } from './etcd.js';
import { renderTemplate, shellQuote } from './templates.js';

/** The oneshot unit that loads the filter at boot, before etcd. */
export const ETCD_METRICS_FILTER_UNIT = 'kubeha-etcd-metrics-filter.service';
/** Where the unit and the nftables rules are installed. */
export const ETCD_METRICS_FILTER_PATHS = { unit: `/etc/systemd/system/${ETCD_METRICS_FILTER_UNIT}`, rules: '/etc/kubeha/etcd-metrics.nft' } as const;
/** The nftables table kubeha owns on each member (replaced as a whole on every load). */
export const ETCD_METRICS_TABLE = 'kubeha_etcd_metrics';
/** The nft program (the nftables package, same path on Debian and RHEL). */
export const NFT = '/usr/sbin/nft';

const metricsMember: HostFilter = (host, model) => host.isEtcd && metricsEnabled(model);
const q = shellQuote;

/** Who may scrape the metrics: every host of the cluster (scrapes from pods leave other nodes masqueraded to their address) and the pod network (a pod on this very host). */
export function metricsSources(model: ClusterModel): string[] {
  return [...model.hosts.map((h) => h.address), model.cluster.podSubnet];
}

const view = (ctx: RenderContext) => ({ hostName: ctx.host.name, clusterName: ctx.model.cluster.name, unit: ETCD_METRICS_FILTER_UNIT });

/** Renders the nftables rules: a drop of every other source on the metrics port. */
export function renderMetricsFilter(ctx: RenderContext): string {
  return renderTemplate(ctx.templates, 'etcd/metrics-filter.nft.ejs', {
    ...view(ctx),
    table: ETCD_METRICS_TABLE,
    port: ctx.model.etcd.metricsPort,
    allowed: metricsSources(ctx.model),
  });
}

/** Renders the unit that loads the rules. */
export function renderMetricsFilterUnit(ctx: RenderContext): string {
  return renderTemplate(ctx.templates, 'etcd/metrics-filter.service.ejs', { ...view(ctx), etcdUnit: ETCD_UNIT, nft: NFT, rules: ETCD_METRICS_FILTER_PATHS.rules });
}

/** Files of etcd members when addons.kubePrometheus is on. */
export const etcdMetricsArtifacts: readonly Artifact[] = [
  { path: ETCD_METRICS_FILTER_PATHS.rules, mode: 0o644, when: metricsMember, render: renderMetricsFilter },
  { path: ETCD_METRICS_FILTER_PATHS.unit, mode: 0o644, when: metricsMember, render: renderMetricsFilterUnit },
];

/** run.sh steps: nftables installed, then the filter loaded (listed before etcd's steps, so it is in place before etcd starts). */
export const etcdMetricsSteps: readonly Step[] = [
  { phase: 'packages', name: 'nftables for the etcd metrics filter', when: metricsMember, script: (ctx) => renderTemplate(ctx.templates, 'etcd/metrics-filter-package.sh.ejs', { packages: 'nftables' }) },
  {
    phase: 'services', name: 'etcd metrics port kept to the cluster', when: metricsMember,
    script: (ctx) => renderTemplate(ctx.templates, 'etcd/metrics-filter-step.sh.ejs', { ...view(ctx), unitPath: q(ETCD_METRICS_FILTER_PATHS.unit), rules: q(ETCD_METRICS_FILTER_PATHS.rules) }),
  },
];
