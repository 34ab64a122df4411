/**
 * A workload on the cluster, as a user would run one: a DaemonSet of the probe (e2e/go/probe, ours) on every node behind
 * a Service, then pod-to-pod traffic across nodes (flannel's VXLAN), and the Service's name resolved by CoreDNS from a
 * pod and answered through its ClusterIP (kube-proxy).
 */
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { waitFor } from '../proc.js';
import { type PodItem, phaseOf, running } from './checks.js';
import type { Kubectl } from './kube.js';

/** Where the workload lives. */
export const PROBE = { namespace: 'kubeha-e2e', name: 'probe', port: 8080 } as const;

/** The workload's objects: its namespace, a DaemonSet that tolerates every taint (a pod on every node) and a Service. */
export function probeManifest(image: string): string {
  const labels = { app: PROBE.name };
  const objects = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: PROBE.namespace } },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: PROBE.name, namespace: PROBE.namespace },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            tolerations: [{ operator: 'Exists' }],
            containers: [
              {
                name: PROBE.name,
                image,
                command: ['/probe', 'serve'],
                env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
                ports: [{ containerPort: PROBE.port }],
                readinessProbe: { httpGet: { path: '/', port: PROBE.port }, periodSeconds: 2 },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: PROBE.name, namespace: PROBE.namespace },
      spec: { selector: labels, ports: [{ port: PROBE.port, targetPort: PROBE.port }] },
    },
  ];
  return objects.map((o) => `---\n${dump(o, { noRefs: true })}`).join('');
}

interface ProbePod {
  name: string;
  node: string;
  ip: string;
}

/** The probe's pods, Running and Ready, one on each of `nodes`; returns them and the seconds it took. */
export async function probeOnEveryNode(kubectl: Kubectl, nodes: readonly string[], timeoutMs: number): Promise<{ pods: ProbePod[]; seconds: number }> {
  let pods: ProbePod[] = [];
  let seen = '';
  const seconds = await waitFor(
    `a Ready probe pod on every node (${nodes.join(', ')})`,
    () => {
      const r = kubectl.run(['get', 'pods', '-n', PROBE.namespace, '-o', 'json']);
      if (r.status !== 0) return false;
      const items = (JSON.parse(r.stdout) as { items: PodItem[] }).items;
      pods = items.filter(running).map((p) => ({ name: p.metadata.name, node: p.spec.nodeName ?? '', ip: p.status.podIP ?? '' }));
      seen = items.map((p) => `${p.metadata.name} on ${p.spec.nodeName ?? '?'} ${phaseOf(p)}`).join(', ');
      return nodes.every((n) => pods.some((p) => p.node === n));
    },
    timeoutMs,
    2000,
    () => seen || 'no pods',
  );
  return { pods, seconds };
}

/** `probe ARGS` inside a pod (kubectl exec: through the API server to the pod's kubelet and containerd). */
function inPod(kubectl: Kubectl, pod: string, args: string[]): { ok: boolean; out: string } {
  const r = kubectl.run(['exec', '-n', PROBE.namespace, pod, '--', '/probe', ...args], 60_000);
  return { ok: r.status === 0, out: (r.stdout + r.stderr).trim() };
}

/** Every pod reaches every pod on another node by its pod address; returns the number of pairs checked. */
export function podToPod(kubectl: Kubectl, pods: readonly ProbePod[]): number {
  let pairs = 0;
  for (const from of pods) {
    for (const to of pods.filter((p) => p.node !== from.node)) {
      const r = inPod(kubectl, from.name, ['get', `http://${to.ip}:${PROBE.port}/`]);
      if (!r.ok || !r.out.startsWith(`${to.name} ${to.ip}`))
        throw new Error(`pod ${from.name} on ${from.node} -> pod ${to.name} on ${to.node} (${to.ip}): ${r.out || 'no answer'}`);
      pairs++;
    }
  }
  return pairs;
}

/** From a pod: the Service's name resolves (CoreDNS) to its ClusterIP, and the ClusterIP answers (kube-proxy). */
export function serviceByName(kubectl: Kubectl, from: ProbePod, dnsDomain: string): { clusterIP: string; answer: string } {
  const clusterIP = kubectl.must(['get', 'service', '-n', PROBE.namespace, PROBE.name, '-o', 'jsonpath={.spec.clusterIP}']).trim();
  const fqdn = `${PROBE.name}.${PROBE.namespace}.svc.${dnsDomain}`;
  const looked = inPod(kubectl, from.name, ['lookup', fqdn]);
  if (!looked.ok || looked.out !== clusterIP)
    throw new Error(`pod ${from.name}: ${fqdn} resolved to ${JSON.stringify(looked.out)}, want the ClusterIP ${clusterIP}`);
  const answer = inPod(kubectl, from.name, ['get', `http://${fqdn}:${PROBE.port}/`]);
  if (!answer.ok || !answer.out.startsWith(`${PROBE.name}-`))
    throw new Error(`pod ${from.name}: http://${fqdn}:${PROBE.port}/ answered ${JSON.stringify(answer.out)}`);
  return { clusterIP, answer: answer.out };
}

/** Applies the workload's manifest (written into `dir`). */
export function deployProbe(kubectl: Kubectl, image: string, dir: string): void {
  kubectl.apply(probeManifest(image), join(dir, 'probe.yaml'));
}

/** The upgrade's workload: a Deployment `web` of 2 replicas (any node, control planes too), a disruption budget of one, a Service. */
export const WEB = { name: 'web', replicas: 2 } as const;

/** The web Deployment: 2 replicas spread over nodes, control planes allowed, Ready when it answers. */
function webDeployment(image: string) {
  const labels = { app: WEB.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: WEB.name, namespace: PROBE.namespace },
    spec: {
      replicas: WEB.replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } },
          ],
          containers: [
            {
              name: WEB.name,
              image,
              command: ['/probe', 'serve'],
              env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
              ports: [{ containerPort: PROBE.port }],
              readinessProbe: { httpGet: { path: '/', port: PROBE.port }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

/** The web Deployment, its PodDisruptionBudget and Service, and a watcher DaemonSet asking the Service every 0.5 s from every node. */
export function webManifest(image: string, dnsDomain: string): string {
  const labels = { app: WEB.name };
  const watch = { app: 'watcher' };
  const url = `http://${WEB.name}.${PROBE.namespace}.svc.${dnsDomain}:${PROBE.port}/`;
  const objects = [
    webDeployment(image),
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: WEB.name, namespace: PROBE.namespace },
      spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: WEB.name, namespace: PROBE.namespace },
      spec: { selector: labels, ports: [{ port: PROBE.port, targetPort: PROBE.port }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'watcher', namespace: PROBE.namespace },
      spec: {
        selector: { matchLabels: watch },
        template: {
          metadata: { labels: watch },
          spec: { tolerations: [{ operator: 'Exists' }], containers: [{ name: 'watcher', image, command: ['/probe', 'watch', url] }] },
        },
      },
    },
  ];
  return objects.map((o) => `---\n${dump(o, { noRefs: true })}`).join('');
}

/** What one watcher saw: its node, the tries, the failed ones, the longest time without an answer (seconds). */
export interface WatchReport {
  node: string;
  tries: number;
  failed: number;
  longestGapSeconds: number;
  lastFailure: string;
}

/** Reads a watcher's log lines (`MILLIS ok|fail ...`) between two moments: the tries, the failures, the longest gap without an answer. */
export function watchReport(node: string, log: string, fromMs: number, toMs: number): WatchReport {
  const report: WatchReport = { node, tries: 0, failed: 0, longestGapSeconds: 0, lastFailure: '' };
  let lastOk = fromMs;
  for (const line of log.split('\n')) {
    const m = /^(\d+) (ok|fail) ?(.*)$/.exec(line);
    if (!m) continue;
    const at = Number(m[1]);
    if (at < fromMs || at > toMs) continue;
    report.tries++;
    if (m[2] === 'ok') lastOk = at;
    else {
      report.failed++;
      report.lastFailure = m[3] ?? '';
      report.longestGapSeconds = Math.max(report.longestGapSeconds, (at - lastOk) / 1000);
    }
  }
  return report;
}

/** Every watcher's report (kubectl logs of each watcher pod) between two moments. */
export function watchReports(kubectl: Kubectl, fromMs: number, toMs: number): WatchReport[] {
  const pods = (JSON.parse(kubectl.must(['get', 'pods', '-n', PROBE.namespace, '-l', 'app=watcher', '-o', 'json'])) as { items: PodItem[] }).items;
  return pods.map((p) => watchReport(p.spec.nodeName ?? '?', kubectl.must(['logs', '-n', PROBE.namespace, p.metadata.name], 120_000), fromMs, toMs));
}
