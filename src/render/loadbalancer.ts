/** Load balancer artifacts (haproxy, keepalived, its check script) and the run.sh steps that install and start them. */
import { API_SERVER_PORT } from '../common/ports.js';
import type { ClusterModel, HostModel } from '../model/types.js';
import { HAPROXY_CHECK, KEEPALIVED_CHECK } from './config-checks.js';
import type { Artifact, HostFilter, RenderContext, Step } from './context.js';
import { metricsSources } from './metrics-filter.js';
import { keepalivedDesign } from './loadbalancer-design.js';
import { tokensOf } from './secret-files.js';
import { renderTemplate, shellQuote } from './templates.js';

const loadBalancer: HostFilter = (host) => host.isLoadBalancer;

/** Where the generated files land on a load balancer. */
export const LB_PATHS = {
  haproxy: '/etc/haproxy/haproxy.cfg',
  keepalived: '/etc/keepalived/keepalived.conf',
  check: '/etc/keepalived/check_haproxy.sh',
  /** Written by run.sh on the host ("interface NAME"), included by keepalived.conf: the name may be known only there. */
  interface: '/etc/keepalived/kubeha-interface.conf',
} as const;

/** What run.sh says when it cannot find keepalived's interface; bash text, $lb_problem says why (interface_holding). */
const FIND_INTERFACE_ADVICE =
  "keepalived's VIP goes on the interface holding $KUBEHA_ADDRESS, but $lb_problem: " +
  "set loadBalancer.interface (or this host's interface) in the inventory to the interface for the VIP and generate again";

/** The unprivileged user keepalived runs its check script as (created by run.sh). */
export const SCRIPT_USER = 'keepalived_script';

/** How haproxy checks each API server: GET over TLS, every `inter`, out after `fall` failures, back after `rise`. */
export const API_CHECK = { path: '/readyz', inter: '2s', fall: 3, rise: 2 } as const;

/** haproxy timeouts, with why. */
export const HAPROXY_TIMEOUTS: readonly { name: string; value: string; why: string }[] = [
  { name: 'connect', value: '5s', why: 'a connection to an API server must open within 5 s' },
  { name: 'client', value: '1h', why: 'watches, logs -f and exec streams stay idle for long: cut only after an hour' },
  { name: 'server', value: '1h', why: 'the same on the API server side' },
  { name: 'check', value: '3s', why: 'a health check must answer within 3 s' },
];

/** keepalived's tracked check: every 2 s, killed after 3 s, FAULT after 2 failures, back after 2 successes. */
export const VRRP_CHECK = { name: 'check_haproxy', path: LB_PATHS.check, interval: 2, timeout: 3, fall: 2, rise: 2 } as const;

/** VRRP advertisement interval in seconds. */
export const ADVERT_INT = 1;

/** curl's total time limit in the check script, below VRRP_CHECK.timeout so a slow answer fails cleanly. */
export const CHECK_MAX_TIME = 2;

/**
 * Patterns per `acl` line: haproxy splits a configuration line into at most 64 words (MAX_LINE_ARGS) and refuses the
 * file past that; lines that declare the same ACL name add to it (an OR: test/metrics-acl.test.ts checks it live).
 */
export const ACL_PATTERNS_PER_LINE = 40;

/** `items` cut into lists of at most `size`. */
function chunks<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

/** User name of the haproxy stats page. */
export const STATS_USER = 'admin';

/** The load balancer settings; load balancer hosts exist only when the inventory has them. */
function lbOf(model: ClusterModel): NonNullable<ClusterModel['loadBalancer']> {
  if (!model.loadBalancer) throw new Error('a load balancer host needs loadBalancer in the inventory');
  return model.loadBalancer;
}

/** /etc/haproxy/haproxy.cfg */
export function renderHaproxy(ctx: RenderContext): string {
  const lb = lbOf(ctx.model);
  const stats = lb.stats.enabled ? [{ port: lb.stats.port, user: STATS_USER, password: tokensOf(ctx).haproxyStatsPassword }] : [];
  const metrics = ctx.model.addons.kubePrometheus.enabled
    ? [{ address: ctx.host.address, port: lb.metricsPort, allowedLines: chunks(metricsSources(ctx.model), ACL_PATTERNS_PER_LINE) }]
    : [];
  return renderTemplate(ctx.templates, 'loadbalancer/haproxy.cfg.ejs', {
    hostName: ctx.host.name,
    port: lb.port,
    maxConnections: lb.maxConnections,
    timeouts: HAPROXY_TIMEOUTS,
    check: API_CHECK,
    backends: ctx.model.controlPlanes.map((cp) => ({ name: cp.name, address: cp.address, port: API_SERVER_PORT })),
    stats,
    metrics,
  });
}

/**
 * The unicast part of a VRRP instance: none in multicast mode, and none for a lone load balancer (keepalived warns
 * about unicast keywords without peers and falls back to multicast anyway).
 */
function unicastOf(host: HostModel, model: ClusterModel): { sourceIp: string; peers: string[] }[] {
  if (lbOf(model).vrrp !== 'unicast' || host.vrrpPeers.length === 0) return [];
  return [{ sourceIp: host.address, peers: host.vrrpPeers }];
}

/** /etc/keepalived/keepalived.conf */
export function renderKeepalived(ctx: RenderContext): string {
  const lb = lbOf(ctx.model);
  const { host, model } = ctx;
  if (host.vrrpPriority === null) throw new Error(`${host.name} is a load balancer without a VRRP priority`);
  return renderTemplate(ctx.templates, 'loadbalancer/keepalived.conf.ejs', {
    routerId: host.name,
    vip: lb.vip,
    port: lb.port,
    scriptUser: SCRIPT_USER,
    script: VRRP_CHECK,
    design: keepalivedDesign(
      host,
      model.hosts.filter((h) => h.isLoadBalancer),
      VRRP_CHECK,
      ADVERT_INT,
    ),
    instance: {
      name: 'kube_apiserver',
      interfaceFile: LB_PATHS.interface,
      interfaceNote:
        host.interface === null
          ? `in the included file, written by run.sh: the one holding ${host.address} on this host`
          : `in the included file, written by run.sh: ${host.interface}, as the inventory sets it`,
      virtualRouterId: lb.virtualRouterId,
      priority: host.vrrpPriority,
      advertInt: ADVERT_INT,
      authPass: tokensOf(ctx).vrrpPassword,
    },
    unicast: unicastOf(host, model),
  });
}

/** /etc/keepalived/check_haproxy.sh */
export function renderCheckScript(ctx: RenderContext): string {
  return renderTemplate(ctx.templates, 'loadbalancer/check_haproxy.sh.ejs', {
    hostName: ctx.host.name,
    maxTime: CHECK_MAX_TIME,
    url: `https://127.0.0.1:${lbOf(ctx.model).port}/healthz`,
  });
}

/** Files load balancer hosts get. */
export const loadBalancerArtifacts: readonly Artifact[] = [
  // 0600: haproxy.cfg holds the stats password and keepalived.conf the VRRP password; both daemons read them as root.
  { path: LB_PATHS.haproxy, mode: 0o600, when: loadBalancer, render: renderHaproxy, restarts: ['haproxy.service'], check: HAPROXY_CHECK },
  { path: LB_PATHS.keepalived, mode: 0o600, when: loadBalancer, render: renderKeepalived, restarts: ['keepalived.service'], check: KEEPALIVED_CHECK },
  // keepalived executes it each time: a new version needs no reload.
  { path: LB_PATHS.check, mode: 0o755, when: loadBalancer, render: renderCheckScript },
];

/** OS packages of a load balancer, with the command that shows each is installed. */
export const LB_PACKAGES: readonly { name: string; command: string }[] = [
  { name: 'haproxy', command: 'haproxy' },
  { name: 'keepalived', command: 'keepalived' },
  { name: 'curl', command: 'curl' },
  // /bin/kill: the haproxy and keepalived units of Debian and RHEL reload with it; minimal images lack procps.
  { name: 'procps', command: '/bin/kill' },
];

/** A service run.sh starts, how to validate its new files first, and what to do when they change. */
export interface LbService {
  unit: string;
  validate: string[];
  onChange: 'reload' | 'restart';
  /** Files run.sh writes on the host (not in the bundle) whose change reloads the service too. */
  hostConfigs: string[];
}

/** haproxy first: keepalived's check goes through it. Both reload without dropping connections or the VIP. */
export const LB_SERVICES: readonly LbService[] = [
  { unit: 'haproxy', validate: [`haproxy -c -q -f ${LB_PATHS.haproxy}`], onChange: 'reload', hostConfigs: [] },
  // keepalived.conf is checked when it is installed (check_keepalived: keepalived -t, judged by its output, as with a
  // non-root script_user it always ends with status 143 in 2.2.7). A reload also moves the VIP to a new interface
  // (measured with 2.2.7: gone from the old one, on the new one).
  { unit: 'keepalived', validate: [], onChange: 'reload', hostConfigs: [LB_PATHS.interface] },
];

/** The services with the files whose change reloads them (the artifacts' `restarts`). */
function servicesView(): (LbService & { configs: string[] })[] {
  return LB_SERVICES.map((s) => ({
    ...s,
    configs: [...loadBalancerArtifacts.filter((a) => a.restarts?.includes(`${s.unit}.service`)).map((a) => a.path), ...s.hostConfigs],
  }));
}

/** The first comment line of LB_PATHS.interface, as a bash word. */
function interfaceComment(host: HostModel): string {
  const from = host.interface === null ? 'the interface holding $KUBEHA_ADDRESS' : "the inventory's interface";
  return `"# keepalived's VRRP interface on $KUBEHA_HOST, written by kubeha's run.sh: ${from}."`;
}

/** Preflight: the inventory's interface exists, or exactly one interface holds the host's address. */
function interfaceCheck(ctx: RenderContext): string {
  const { host } = ctx;
  return host.interface === null
    ? renderTemplate(ctx.templates, 'loadbalancer/interface-check-found.sh.ejs', { advice: FIND_INTERFACE_ADVICE })
    : renderTemplate(ctx.templates, 'loadbalancer/interface-check-named.sh.ejs', { iface: shellQuote(host.interface) });
}

/** Files: writes LB_PATHS.interface with the inventory's interface or the one found on the host. */
function interfaceFile(ctx: RenderContext): string {
  const { host } = ctx;
  const common = { file: LB_PATHS.interface, comment: interfaceComment(host) };
  return host.interface === null
    ? renderTemplate(ctx.templates, 'loadbalancer/interface-file-found.sh.ejs', { ...common, advice: FIND_INTERFACE_ADVICE })
    : renderTemplate(ctx.templates, 'loadbalancer/interface-file-named.sh.ejs', { ...common, line: shellQuote(`interface ${host.interface}`) });
}

/** The ports haproxy listens on: the API, the stats page when on, the exporter with addons.kubePrometheus. */
function haproxyPorts(model: ClusterModel): number[] {
  const lb = lbOf(model);
  return [lb.port, ...(lb.stats.enabled ? [lb.stats.port] : []), ...(model.addons.kubePrometheus.enabled ? [lb.metricsPort] : [])];
}

/** run.sh steps of load balancer hosts. */
export const loadBalancerSteps: readonly Step[] = [
  { phase: 'preflight', name: 'the VRRP interface exists', when: loadBalancer, script: interfaceCheck },
  {
    phase: 'packages',
    name: 'haproxy, keepalived, curl and procps; the keepalived_script user',
    when: loadBalancer,
    script: (ctx) =>
      renderTemplate(ctx.templates, 'loadbalancer/packages.sh.ejs', {
        packages: LB_PACKAGES,
        scriptUser: SCRIPT_USER,
      }),
  },
  // Before the bundle's files: keepalived -t reads it when it checks the new keepalived.conf.
  { phase: 'files', name: "keepalived's VRRP interface", when: loadBalancer, script: interfaceFile, beforeInstall: true },
  {
    phase: 'services',
    name: "SELinux: haproxy's ports and the keepalived check script (RHEL-like, enforcing)",
    when: (host) => host.isLoadBalancer && !host.isKubernetesNode,
    script: (ctx) =>
      renderTemplate(ctx.templates, 'loadbalancer/selinux.sh.ejs', {
        ports: haproxyPorts(ctx.model),
        checkScript: LB_PATHS.check,
      }),
  },
  {
    phase: 'services',
    name: 'haproxy and keepalived: validate, start, reload on change',
    when: loadBalancer,
    script: (ctx) => renderTemplate(ctx.templates, 'loadbalancer/services.sh.ejs', { services: servicesView() }),
  },
];
