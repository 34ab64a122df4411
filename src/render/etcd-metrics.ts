/** etcd's metrics port (plain HTTP on a port of its own) kept to the cluster's hosts and pods, on every member. */
import { ETCD_UNIT, metricsEnabled } from './etcd.js';
import { namedFilter } from './metrics-filter.js';

/** etcd's filter: loaded before etcd starts on each member, when addons.kubePrometheus is on. */
export const ETCD_FILTER = namedFilter('etcd', {
  when: (host, model) => host.isEtcd && metricsEnabled(model),
  port: (model) => model.etcd.metricsPort,
  extraSources: [],
  before: ETCD_UNIT,
  beforeName: 'etcd',
  who: (h) => `etcd member ${h}`,
  what: (h) => `etcd metrics port of member ${h}`,
});

/** The oneshot unit that loads etcd's filter at boot, before etcd. */
export const ETCD_METRICS_FILTER_UNIT = ETCD_FILTER.unit;
/** Where etcd's unit and nftables rules are installed. */
export const ETCD_METRICS_FILTER_PATHS = { unit: `/etc/systemd/system/${ETCD_FILTER.unit}`, rules: ETCD_FILTER.rules } as const;
/** The nftables table kubeha owns on each member (replaced as a whole on every load). */
export const ETCD_METRICS_TABLE = ETCD_FILTER.table;
