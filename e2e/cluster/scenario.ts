/**
 * The real cluster's story on booted hosts: every bundle's run.sh whole, in `gen plan` order (hosts of one step at
 * once); the cluster checked as its users would; a second run.sh everywhere that must change nothing; kubeadm's
 * certificate report; then hosts powered off one at a time: the VIP holder (the API answers through the VIP again),
 * a control plane (the API still answers), an etcd member (writes still succeed).
 */
import { API_SERVER_PORT } from '../../src/common/ports.js';
import type { Testbed } from '../booted.js';
import { failureOf, runBundle, type Plan, type PlanHost, type RunReport } from '../bundles.js';
import { vipHolders } from '../checks.js';
import { runAsync, sleep, waitFor } from '../proc.js';
import { certsReport, kubeletThresholds, kubernetesNodes, nodesReady, systemPodsRunning } from './checks.js';
import { apiReadyPoll, type Kubectl, type PollReport, Poller } from './kube.js';
import { deployProbe, podToPod, probeOnEveryNode, serviceByName } from './workload.js';

/** What the story needs. */
export interface ClusterInput {
  bed: Testbed;
  plan: Plan;
  kubectl: Kubectl;
  secrets: string;
  workDir: string;
  version: string;
  dnsDomain: string;
  probeImage: string;
  /** The inventory's cluster.kubelet.evictionHard: every running kubelet must hold these thresholds. */
  evictionHard: Record<string, string>;
  say: (line: string) => void;
}

/** How long one run.sh may take here (apt, image pulls and kubeadm on two shared cores). */
const RUN_LIMIT_MS = 30 * 60_000;

/** Runs every host of each plan step at once, steps in order; every run.sh must exit 0. Returns the reports by host. */
export async function runInPlanOrder(input: ClusterInput, label: string): Promise<Map<string, RunReport>> {
  const reports = new Map<string, RunReport>();
  for (const [i, step] of input.plan.order.entries()) {
    const started = performance.now();
    const runs = await Promise.all(step.hosts.map((h) => runBundle(input.bed, h, [], RUN_LIMIT_MS)));
    for (const r of runs) {
      if (r.status !== 0) throw new Error(`${label}, step ${i + 1} (${step.title}): ${failureOf(r)}`);
      reports.set(r.host, r);
    }
    const each = runs.map((r) => `${r.host} ${r.seconds.toFixed(0)} s`).join(', ');
    input.say(`${label}: step ${i + 1} ${step.title} done in ${((performance.now() - started) / 1000).toFixed(0)} s (${each})`);
  }
  return reports;
}

/** Every node Ready at the version, every system pod Running, and a workload across nodes with a Service found by name. */
export async function checkCluster(input: ClusterInput): Promise<void> {
  const { kubectl, say } = input;
  const nodes = kubernetesNodes(input.plan.hosts);
  say(`every node Ready at v${input.version}: ${(await nodesReady(kubectl, nodes, input.version, 600_000)).toFixed(0)} s`);
  say(`every system pod Running: ${(await systemPodsRunning(kubectl, nodes, 900_000)).toFixed(0)} s`);
  if (Object.keys(input.evictionHard).length > 0)
    say(`every running kubelet's eviction thresholds (configz): ${kubeletThresholds(kubectl, nodes, input.evictionHard)}`);
  deployProbe(kubectl, input.probeImage, input.workDir);
  const { pods, seconds } = await probeOnEveryNode(
    kubectl,
    nodes.map((n) => n.name),
    600_000,
  );
  say(`probe pod Ready on every node: ${seconds.toFixed(0)} s (${pods.map((p) => `${p.node} ${p.ip}`).join(', ')})`);
  say(`pod to pod across nodes: ${podToPod(kubectl, pods)} pairs answered`);
  const worker = pods.find((p) => input.plan.hosts.find((h) => h.name === p.node)?.roles.includes('worker')) ?? pods[0]!;
  const svc = serviceByName(kubectl, worker, input.dnsDomain);
  say(`from ${worker.name}: the Service name resolved to its ClusterIP ${svc.clusterIP}, which answered "${svc.answer}"`);
}

/** A second run.sh on every host: each must end `kubeha: changed=0` and start, restart or reload no unit. */
export async function secondRunChangesNothing(input: ClusterInput): Promise<void> {
  const reports = await runInPlanOrder(input, 'second run');
  const changed = [...reports.values()].filter((r) => !/^kubeha: changed=0$/m.test(r.output) || r.services.length > 0 || r.installed.length > 0);
  if (changed.length > 0)
    throw new Error(
      `a second run changed something:\n${changed.map((r) => `${r.host}: ${[...r.installed, ...r.actions].join('; ')}\n${r.output.split('\n').slice(-3).join('\n')}`).join('\n')}`,
    );
  input.say(`second run: changed=0 on all ${reports.size} hosts, no unit started or restarted`);
}

/** kubeadm's certificate report on the first control plane shows kubeha's CAs. */
export async function checkCertificates(input: ClusterInput): Promise<void> {
  const first = input.plan.hosts.find((h) => h.roles.includes('control-plane'))!;
  const report = await certsReport(input.bed, first.name, input.secrets);
  const cas = report.split('\n').filter((l) => /^(ca|front-proxy-ca) /.test(l));
  input.say(`kubeadm certs check-expiration on ${first.name}: ${cas.map((l) => l.replace(/\s+/g, ' ')).join('; ')}`);
}

/** Polls the API through the VIP every 0.5 s until it answers; returns the seconds. */
async function apiAnswers(kubectl: Kubectl, what: string, timeoutMs: number): Promise<number> {
  let last = '';
  return waitFor(
    what,
    () => {
      const r = kubectl.run(['get', '--raw', '/readyz'], 15_000);
      last = (r.stdout + r.stderr).trim();
      return r.status === 0 && last === 'ok';
    },
    timeoutMs,
    500,
    () => last,
  );
}

/** A poll report in words. */
const gapOf = (r: PollReport) => `${r.polls} polls, ${r.failed} failed, longest gap ${r.longestGapSeconds.toFixed(1)} s`;

/** Powers a host off while `poller` polls; returns the poller's report once `answered` holds again (bounded) and 5 s more passed. */
async function offWhilePolling(
  input: ClusterInput,
  host: string,
  poller: Poller,
  answered: () => Promise<number>,
): Promise<{ report: PollReport; seconds: number }> {
  await input.bed.poweroff(host);
  const seconds = await answered();
  await sleep(5000);
  return { report: await poller.stop(), seconds };
}

/**
 * Powers off the VIP holder (then a control plane, if the holder was none) with the API polled through the VIP every
 * 0.5 s, then an etcd member with a write every 0.5 s; the API and writes go on. Returns the hosts powered off.
 */
export async function failovers(input: ClusterInput): Promise<string[]> {
  const { bed, plan, kubectl, say } = input;
  const lbs = plan.hosts.filter((h) => h.roles.includes('loadbalancer')).map((h) => h.name);
  const vip = plan.controlPlaneEndpoint.replace(/:\d+$/, '');
  const holders = vipHolders(bed, lbs, vip);
  if (holders.length !== 1) throw new Error(`want one VIP holder before the failover, found ${holders.length}: ${holders.join(', ')}`);
  const holder = plan.hosts.find((h) => h.name === holders[0])!;
  const api = await offWhilePolling(input, holder.name, new Poller(apiReadyPoll(kubectl)), () =>
    apiAnswers(kubectl, `the API through the VIP after ${holder.name} (the VIP holder) was powered off`, 120_000),
  );
  say(`VIP holder ${holder.name} powered off (now held by ${vipHolders(bed, lbs, vip).join(', ')}): API through the VIP ${gapOf(api.report)}`);
  const off = [holder.name];
  if (!holder.roles.includes('control-plane')) off.push(await controlPlaneDown(input));
  else say(`${holder.name} was a control plane too: the API answered with one control plane down`);
  off.push(await etcdMemberDown(input));
  return off;
}

async function controlPlaneDown(input: ClusterInput): Promise<string> {
  const up = input.plan.hosts.filter((h) => h.roles.includes('control-plane') && input.bed.hosts.get(h.name)!.pid1 !== 0);
  const victim: PlanHost = up[up.length - 1]!;
  const api = await offWhilePolling(input, victim.name, new Poller(apiReadyPoll(input.kubectl)), () =>
    apiAnswers(input.kubectl, `the API with control plane ${victim.name} powered off`, 120_000),
  );
  input.say(`control plane ${victim.name} powered off: API through the VIP ${gapOf(api.report)}`);
  return victim.name;
}

/** A write every poll: the same ConfigMap's annotation set to the poll's number (a real etcd write, never a dry run). */
function writePoll(kubectl: Kubectl): () => Promise<{ ok: boolean; error: string }> {
  let n = 0;
  kubectl.must(['create', 'configmap', 'kubeha-e2e-writes', '-n', 'default']);
  return async () => {
    const r = await runAsync(
      [
        'ip',
        'netns',
        'exec',
        kubectl.netns,
        kubectl.binary,
        `--kubeconfig=${kubectl.kubeconfig}`,
        '--request-timeout=2s',
        'annotate',
        '--overwrite',
        '-n',
        'default',
        'configmap',
        'kubeha-e2e-writes',
        `write=${n++}`,
      ],
      5000,
    );
    return { ok: r.status === 0, error: (r.stdout + r.stderr).trim() };
  };
}

async function etcdMemberDown(input: ClusterInput): Promise<string> {
  const member = input.plan.hosts.find((h) => h.roles.includes('etcd') && input.bed.hosts.get(h.name)!.pid1 !== 0)!;
  const poller = new Poller(writePoll(input.kubectl));
  let last = '';
  const writes = await offWhilePolling(input, member.name, poller, () =>
    waitFor(
      `a write with etcd member ${member.name} powered off`,
      () => {
        const r = input.kubectl.run(['annotate', '--overwrite', '-n', 'default', 'configmap', 'kubeha-e2e-writes', `member-down=${member.name}`], 30_000);
        last = (r.stdout + r.stderr).trim();
        return r.status === 0;
      },
      120_000,
      500,
      () => last,
    ),
  );
  input.say(`etcd member ${member.name} powered off: writes every 0.5 s ${gapOf(writes.report)}`);
  return member.name;
}

/**
 * Boots the powered-off hosts again (a reboot: same disks). A rebooted node's kubelet renews its lease after the boot,
 * a rebooted control plane's API server answers at its own address, every node is Ready and every system pod Running,
 * and a write goes through.
 */
export async function powerBackOn(input: ClusterInput, off: readonly string[]): Promise<void> {
  const { bed, kubectl, say } = input;
  const bootedAt = new Date();
  for (const name of off) say(`${name} powered on again: booted in ${(await bed.powerOn(name)).toFixed(1)} s`);
  const nodes = kubernetesNodes(input.plan.hosts);
  for (const node of nodes.filter((n) => off.includes(n.name))) {
    const seconds = await leaseRenewedAfter(kubectl, node.name, bootedAt, 300_000);
    say(`${node.name}'s kubelet renewed its lease ${seconds.toFixed(0)} s after the reboot`);
    if (node.roles.includes('control-plane')) {
      const own = `https://${node.address}:${API_SERVER_PORT}`;
      const at = await waitFor(
        `the API server of ${node.name} at ${own}`,
        () => kubectl.run(['--server', own, 'get', '--raw', '/readyz'], 15_000).stdout.trim() === 'ok',
        300_000,
        2000,
      );
      say(`${node.name}'s API server answers at ${own} again: ${at.toFixed(0)} s`);
    }
  }
  say(
    `after the reboots every node Ready: ${(await nodesReady(kubectl, nodes, input.version, 600_000)).toFixed(0)} s, every system pod Running: ${(await systemPodsRunning(kubectl, nodes, 600_000)).toFixed(0)} s`,
  );
  kubectl.must(['annotate', '--overwrite', '-n', 'default', 'configmap', 'kubeha-e2e-writes', `rebooted=${off.join('.')}`]);
}

/** Waits until the node's lease (kube-node-lease) was renewed after `after`; returns the seconds it took. */
async function leaseRenewedAfter(kubectl: Kubectl, node: string, after: Date, timeoutMs: number): Promise<number> {
  let renewed = '';
  return waitFor(
    `${node}'s kubelet to renew its lease after its reboot`,
    () => {
      renewed = kubectl.run(['get', 'lease', '-n', 'kube-node-lease', node, '-o', 'jsonpath={.spec.renewTime}']).stdout.trim();
      return renewed !== '' && new Date(renewed) > after;
    },
    timeoutMs,
    2000,
    () => `last renewTime ${renewed || 'unknown'}, reboot at ${after.toISOString()}`,
  );
}
