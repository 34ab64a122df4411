/**
 * The e2e story on booted hosts: every bundle in plan order (hosts of one step at once), one run.sh interrupted and
 * run again, etcd and load balancer checks, a second run on every host that must change nothing, an etcd member
 * restarted on a new program only while the others keep the quorum, then VIP failover.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Testbed } from './booted.js';
import { failureOf, runBundle, runBundleKilled, type Plan, type PlanHost, type RunReport } from './bundles.js';
import { checkEtcd, httpsStatus, listening, standInCert, startStandIn, unitState, vipHolders, waitClient200, waitOneHolder } from './checks.js';
import { checkEtcdDefrag } from './etcd-defrag.js';
import { checkEtcdRestart } from './etcd-restart.js';
import { checkMetrics, type MetricsPorts } from './metrics.js';
import { sleep, waitFor } from './proc.js';

/** What the scenario needs. */
export interface ScenarioInput {
  bed: Testbed;
  plan: Plan;
  secrets: string;
  logDir: string;
  say: (line: string) => void;
  /** The addon's metrics ports when addons.kubePrometheus is on (then etcd and haproxy metrics are checked). */
  metrics: MetricsPorts | null;
}

/**
 * Phases a Kubernetes node runs here, and why not the others: os loads kernel modules (br_netfilter, ip_vs) that a
 * container cannot load (the kernel is this machine's); packages need kubelet/kubeadm/kubectl from pkgs.k8s.io, which
 * neither Debian nor this offline network has; services start containerd and the kubelet and write kernel sysctls
 * (fs.inotify.*) that are read-only in a container; kubeadm and addons need kubeadm and a running API server.
 */
export const KUBERNETES_NODE_PHASES = ['preflight', 'files'] as const;

const isKubernetesNode = (h: PlanHost) => h.roles.includes('control-plane') || h.roles.includes('worker');

/** run.sh arguments for a host: everything for etcd members and load balancers, KUBERNETES_NODE_PHASES for nodes. */
function argsOf(h: PlanHost): string[] {
  if (!isKubernetesNode(h)) return [];
  if (h.roles.length > 1) {
    throw new Error(
      `${h.name} is a Kubernetes node and ${h.roles.filter((r) => r !== 'control-plane' && r !== 'worker').join(', ')}: ` +
        'the e2e run can only run the packages and services phases of hosts without Kubernetes roles (those phases also need Kubernetes packages); give load balancers and etcd members hosts of their own',
    );
  }
  return ['--only', KUBERNETES_NODE_PHASES.join(',')];
}

/** Which run.sh to interrupt, in which phase, and when: delayMs after this line of its output. */
interface Interruption {
  host: string;
  phase: string;
  after: RegExp;
  delayMs: number;
}

/** The hosts the scenario acts on, by the part they play. */
interface Cast {
  byName: Map<string, PlanHost>;
  etcd: PlanHost[];
  lbs: string[];
  cps: PlanHost[];
  /** The host that plays a client of the API servers (a worker, else the first control plane). */
  client: PlanHost;
  vip: string;
  endpoint: string;
  ca: string;
}

/** Who is who in a plan, and where the client reaches the API servers. */
function castOf(input: ScenarioInput): Cast {
  const { plan } = input;
  const cps = plan.hosts.filter((h) => h.roles.includes('control-plane'));
  return {
    byName: new Map(plan.hosts.map((h) => [h.name, h])),
    etcd: plan.hosts.filter((h) => h.roles.includes('etcd')),
    lbs: plan.hosts.filter((h) => h.roles.includes('loadbalancer')).map((h) => h.name),
    cps,
    client: plan.hosts.find((h) => h.roles.includes('worker')) ?? cps[0]!,
    vip: plan.controlPlaneEndpoint.replace(/:\d+$/, ''),
    endpoint: `https://${plan.controlPlaneEndpoint}/readyz`,
    ca: join(input.secrets, 'ca.crt'),
  };
}

/** The runs to interrupt: one etcd member and one load balancer. */
function interruptionsOf(cast: Cast): Interruption[] {
  return [
    // etcd: right after it asked systemd to (re)start etcd with the new unit and certificates, before it is healthy.
    { host: cast.etcd[0]!.name, phase: 'services', after: /\+ systemctl (re)?start --no-block etcd/, delayMs: 0 },
    // A load balancer: a second into apt-get install (dpkg unpacking or configuring).
    ...(cast.lbs[0] ? [{ host: cast.lbs[0], phase: 'packages', after: /\+ env DEBIAN_FRONTEND=noninteractive apt-get .*install/, delayMs: 1000 }] : []),
  ];
}

/** Runs the whole scenario; returns every run.sh report by host. Throws at the first failed check. */
export async function runScenario(input: ScenarioInput): Promise<Map<string, RunReport[]>> {
  const { bed, plan, say } = input;
  mkdirSync(input.logDir, { recursive: true });
  const runs = new Map<string, RunReport[]>(plan.hosts.map((h) => [h.name, []]));
  const cast = castOf(input);
  const standInsAt = await bringUp(input, cast, runs);
  const etcdSeconds = await checkEtcd(
    bed,
    cast.cps[0]!.name,
    cast.etcd.map((h) => `https://${h.address}:2379`),
    60_000,
  );
  say(
    `CHECK etcd: ${cast.etcd.length} members healthy and started, reached from ${cast.cps[0]!.name} with its apiserver-etcd-client certificate (+${etcdSeconds.toFixed(1)} s after the last run); refused without a client certificate`,
  );
  await checkLoadBalancers(bed, cast.lbs, Number(plan.controlPlaneEndpoint.split(':').pop()), say);
  const { holder, seconds: vipSeconds } = await waitOneHolder(bed, cast.lbs, cast.vip, 90_000);
  say(
    `CHECK VIP ${cast.vip}: held by ${holder} only, ${((performance.now() - standInsAt) / 1000).toFixed(1)} s after the first stand-in API server started (+${vipSeconds.toFixed(1)} s of waiting here)`,
  );
  const clientSeconds = await waitClient200(bed, cast.client.name, cast.endpoint, cast.ca, 30_000);
  say(`CHECK client on ${cast.client.name}: GET ${cast.endpoint} answered 200 (server verified against the cluster CA) after ${clientSeconds.toFixed(1)} s`);
  if (input.metrics) {
    const lbHosts = cast.lbs.map((name) => cast.byName.get(name)!);
    await checkMetrics(bed, { etcd: cast.etcd, lbs: lbHosts, client: cast.client, hosts: plan.hosts, vip: cast.vip }, input.metrics, say);
  }
  await secondRuns(input, runs, argsOf);
  await checkEtcdRestart(bed, cast.etcd, cast.cps[0]!.name, say);
  await checkEtcdDefrag(bed, cast.etcd, cast.cps[0]!.name, say);
  await failover(input, cast.lbs, holder, cast.vip, cast.client.name, cast.endpoint, cast.ca);
  return runs;
}

/** Runs every bundle in plan order (hosts of a step at once, the chosen ones interrupted first); returns when the first stand-in API server started. */
async function bringUp(input: ScenarioInput, cast: Cast, runs: Map<string, RunReport[]>): Promise<number> {
  const { bed, plan, say } = input;
  const interruptions = interruptionsOf(cast);
  const tls = standInCert(input.logDir, input.secrets, [...cast.cps.map((h) => h.address), cast.vip, '127.0.0.1']);
  let standInsAt = 0;
  for (const [i, step] of plan.order.entries()) {
    say(`step ${i + 1}/${plan.order.length} ${step.title}: run.sh on ${step.hosts.join(', ')} at once`);
    await Promise.all(
      step.hosts.map(async (name) => {
        const host = cast.byName.get(name)!;
        const interruption = interruptions.find((x) => x.host === name);
        if (interruption) runs.get(name)!.push(await interruptedRun(bed, host, interruption, say));
        const report = await runBundle(bed, name, argsOf(host));
        runs.get(name)!.push(report);
        if (report.status !== 0) throw new Error(failureOf(report));
        say(
          `${name}: run.sh ${argsOf(host).join(' ') || '(every phase)'} exited 0 in ${report.seconds.toFixed(1)} s: ${report.installed.length} files installed, ${report.services.length} service actions`,
        );
      }),
    );
    const controlPlanes = step.hosts.filter((n) => cast.byName.get(n)!.roles.includes('control-plane'));
    if (controlPlanes.length) {
      // In a real cluster kubeadm starts the API servers here; stand-ins take their place (no Kubernetes packages).
      for (const name of controlPlanes) startStandIn(bed, name, tls, input.logDir);
      standInsAt ||= performance.now();
      say(`stand-in API servers (TLS, cluster CA, 200 on /readyz) on ${step.hosts.join(', ')}:6443`);
    }
  }
  return standInsAt;
}

/** Starts run.sh, SIGKILLs its whole process tree once `after` shows in its output (bounded), then returns the report. */
async function interruptedRun(bed: Testbed, host: PlanHost, x: Interruption, say: (l: string) => void): Promise<RunReport> {
  const report = await runBundleKilled(bed, host.name, argsOf(host), x.after, x.delayMs, 300_000);
  const phase = report.phases.at(-1);
  if (phase !== x.phase) throw new Error(`${host.name}: run.sh was killed in phase ${phase}, not ${x.phase}`);
  say(`${host.name}: run.sh killed (SIGKILL to its process group) in phase ${phase} after ${report.seconds.toFixed(1)} s; running it again`);
  return report;
}

/** Load balancers: haproxy and keepalived active under systemd, haproxy listening on the bundle's port. */
async function checkLoadBalancers(bed: Testbed, lbs: string[], port: number, say: (l: string) => void): Promise<void> {
  for (const lb of lbs) {
    for (const unit of ['haproxy', 'keepalived']) {
      const state = (await bed.exec(lb, ['systemctl', 'is-active', unit], 10_000)).stdout.trim();
      if (state !== 'active') throw new Error(`${lb}: ${unit} is ${state}, not active`);
    }
    if (!(await listening(bed, lb, port))) throw new Error(`${lb}: nothing listens on port ${port}: haproxy does not run the bundle's haproxy.cfg`);
    const iface = bed.hosts.get(lb)!.iface;
    const chosen = (await bed.exec(lb, ['cat', '/etc/keepalived/kubeha-interface.conf'], 10_000)).stdout;
    if (!chosen.endsWith(`\ninterface ${iface}\n`)) throw new Error(`${lb}: keepalived's interface file does not name ${iface}, the host's link:\n${chosen}`);
  }
  say(
    `CHECK load balancers ${lbs.join(', ')}: haproxy and keepalived active under systemd, haproxy listening on :${port} (the bundle's config), keepalived on ${bed.hosts.get(lbs[0]!)!.iface} (/etc/keepalived/kubeha-interface.conf)`,
  );
}

/** A second run.sh on every host: exit 0, no file installed, no command run, no unit restarted (MainPID and start time). */
async function secondRuns(input: ScenarioInput, runs: Map<string, RunReport[]>, args: (h: PlanHost) => string[]): Promise<void> {
  const { bed, plan, say } = input;
  const units = (h: PlanHost) => [...(h.roles.includes('etcd') ? ['etcd'] : []), ...(h.roles.includes('loadbalancer') ? ['haproxy', 'keepalived'] : [])];
  const before = new Map(await Promise.all(plan.hosts.map(async (h) => [h.name, await Promise.all(units(h).map((u) => unitState(bed, h.name, u)))] as const)));
  const reports = await Promise.all(plan.hosts.map((h) => runBundle(bed, h.name, args(h))));
  for (const r of reports) {
    runs.get(r.host)!.push(r);
    if (r.status !== 0) throw new Error(`second run: ${failureOf(r)}`);
    if (r.installed.length || r.actions.length)
      throw new Error(`second run on ${r.host} changed something: installed ${r.installed.join(', ') || 'nothing'}; ran ${r.actions.join('; ') || 'nothing'}`);
  }
  for (const h of plan.hosts) {
    const after = await Promise.all(units(h).map((u) => unitState(bed, h.name, u)));
    if (after.join('\n') !== before.get(h.name)!.join('\n'))
      throw new Error(`second run on ${h.name} restarted a unit:\nbefore ${before.get(h.name)!.join('\n')}\nafter  ${after.join('\n')}`);
  }
  const slowest = Math.max(...reports.map((r) => r.seconds));
  say(`CHECK second run.sh on all ${reports.length} hosts: exit 0, no file installed, no command run, no unit restarted (slowest ${slowest.toFixed(2)} s)`);
}

/** Powers off the VIP holder; the VIP must move to exactly one other load balancer and the client get 200 again. */
async function failover(input: ScenarioInput, lbs: string[], holder: string, vip: string, client: string, endpoint: string, ca: string): Promise<void> {
  const { bed, say } = input;
  const started = performance.now();
  const poweroff = bed.poweroff(holder, 60_000);
  const others = lbs.filter((lb) => lb !== holder);
  const moved = await waitFor(
    `the VIP ${vip} to move from ${holder} to one of ${others.join(', ')}`,
    () => vipHolders(bed, others, vip).length === 1,
    60_000,
    100,
  );
  const firstOk = await waitClient200(bed, client, endpoint, ca, 30_000);
  const down = await poweroff;
  const total = (performance.now() - started) / 1000;
  if (vipHolders(bed, others, vip).length !== 1) throw new Error(`after failover ${vipHolders(bed, others, vip).length} load balancers hold the VIP`);
  const status = httpsStatus(bed, client, endpoint, ca);
  if (status !== '200') throw new Error(`after failover the client got ${status}`);
  say(
    `CHECK failover: systemctl poweroff of ${holder}; VIP on ${vipHolders(bed, others, vip)[0]} after ${moved.toFixed(1)} s, client 200 again after ${(moved + firstOk).toFixed(1)} s; ${holder} down after ${down.toFixed(1)} s (${total.toFixed(1)} s in all)`,
  );
  await sleep(0);
}
