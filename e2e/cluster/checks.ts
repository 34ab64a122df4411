/**
 * What a working cluster shows, each a check that fails with what it saw: every node Ready at the inventory's version,
 * every system pod Running on the node it belongs to, kubeadm's certificate report naming kubeha's CAs.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Testbed } from '../booted.js';
import type { PlanHost } from '../bundles.js';
import { waitFor } from '../proc.js';
import type { Kubectl } from './kube.js';

/** What the checks read of API objects. */
export interface Condition {
  type: string;
  status: string;
}
interface NodeItem {
  metadata: { name: string };
  status: { conditions: Condition[]; nodeInfo: { kubeletVersion: string } };
}
export interface PodItem {
  metadata: { name: string; namespace: string };
  spec: { nodeName?: string };
  status: { phase: string; podIP?: string; conditions?: Condition[]; reason?: string; message?: string };
}

/** A node's pressure conditions that are true (DiskPressure: the kubelet evicts pods and admits none), as ` (DiskPressure)`. */
export function pressures(conditions: readonly Condition[]): string {
  const on = conditions.filter((c) => c.type.endsWith('Pressure') && c.status === 'True').map((c) => c.type);
  return on.length > 0 ? ` (${on.join(', ')})` : '';
}

/** What a pod's phase hides: why the kubelet failed it (`Failed (Evicted: The node had condition: [DiskPressure].)`). */
export function phaseOf(pod: PodItem): string {
  const why = [pod.status.reason, pod.status.message?.trim()].filter(Boolean).join(': ');
  return why ? `${pod.status.phase} (${why})` : pod.status.phase;
}

/** The Kubernetes nodes of a plan (control planes and workers). */
export const kubernetesNodes = (hosts: readonly PlanHost[]) => hosts.filter((h) => h.roles.includes('control-plane') || h.roles.includes('worker'));

/** Every node of the plan registered, Ready, and running kubelet vVERSION; returns the seconds it took. */
export async function nodesReady(kubectl: Kubectl, nodes: readonly PlanHost[], version: string, timeoutMs: number): Promise<number> {
  let seen = '';
  return waitFor(
    `every node Ready at v${version}`,
    () => {
      const r = kubectl.run(['get', 'nodes', '-o', 'json']);
      if (r.status !== 0) {
        seen = r.stderr.trim();
        return false;
      }
      const items = (JSON.parse(r.stdout) as { items: NodeItem[] }).items;
      const state = nodes.map((n) => {
        const item = items.find((i) => i.metadata.name === n.name);
        if (!item) return `${n.name} not registered`;
        const ready = item.status.conditions.find((c) => c.type === 'Ready')?.status === 'True';
        return `${n.name} ${ready ? 'Ready' : 'NotReady'} ${item.status.nodeInfo.kubeletVersion}${pressures(item.status.conditions)}`;
      });
      seen = state.join(', ');
      return state.every((s) => s.endsWith(` Ready v${version}`));
    },
    timeoutMs,
    2000,
    () => seen,
  );
}

/** The system pods a node must run, by name prefix: kube-proxy and flannel everywhere, the control plane's own on control planes. */
export function expectedSystemPods(nodes: readonly PlanHost[]): { namespace: string; prefix: string; node: string }[] {
  return nodes.flatMap((n) => [
    { namespace: 'kube-system', prefix: 'kube-proxy-', node: n.name },
    { namespace: 'kube-flannel', prefix: 'kube-flannel-ds-', node: n.name },
    ...(n.roles.includes('control-plane')
      ? ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((c) => ({ namespace: 'kube-system', prefix: `${c}-${n.name}`, node: n.name }))
      : []),
  ]);
}

/** A pod Running with its Ready condition true. */
export const running = (p: PodItem) => p.status.phase === 'Running' && p.status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';

/** Every expected system pod Running and Ready on its node, and CoreDNS' pods Running and Ready; returns the seconds it took. */
export async function systemPodsRunning(kubectl: Kubectl, nodes: readonly PlanHost[], timeoutMs: number): Promise<number> {
  const expected = expectedSystemPods(nodes);
  let missing: string[] = [];
  return waitFor(
    'every kube-system and kube-flannel pod Running and Ready',
    () => {
      const r = kubectl.run(['get', 'pods', '-A', '-o', 'json']);
      if (r.status !== 0) {
        missing = [r.stderr.trim()];
        return false;
      }
      const pods = (JSON.parse(r.stdout) as { items: PodItem[] }).items;
      missing = expected
        .filter(
          (e) => !pods.some((p) => p.metadata.namespace === e.namespace && p.metadata.name.startsWith(e.prefix) && p.spec.nodeName === e.node && running(p)),
        )
        .map((e) => `${e.namespace}/${e.prefix}* on ${e.node}`);
      const dns = pods.filter((p) => p.metadata.namespace === 'kube-system' && p.metadata.name.startsWith('coredns-'));
      if (dns.length === 0 || !dns.every(running))
        missing.push(`kube-system/coredns (${dns.map((p) => `${p.metadata.name} ${p.status.phase}`).join(', ') || 'none'})`);
      return missing.length === 0;
    },
    timeoutMs,
    3000,
    () => `not yet: ${missing.join('; ')}`,
  );
}

/** kubeadm's date format in `certs check-expiration` (Go's "Jan 02, 2006 15:04 MST"). */
export function kubeadmDate(date: Date): string {
  const month = date.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${month} ${pad(date.getUTCDate())}, ${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())} UTC`;
}

/**
 * `kubeadm certs check-expiration` on a control plane lists kubeha's CAs with the expiry of the certificates in the
 * secrets folder (ca, front-proxy-ca), so kubeadm uses the CAs kubeha made rather than its own. Returns its report.
 */
export async function certsReport(bed: Testbed, host: string, secrets: string): Promise<string> {
  const r = await bed.exec(host, ['kubeadm', 'certs', 'check-expiration'], 60_000);
  if (r.status !== 0) throw new Error(`kubeadm certs check-expiration on ${host}: exit ${r.status}: ${r.stderr}`);
  for (const ca of ['ca', 'front-proxy-ca']) {
    const cert = new X509Certificate(readFileSync(join(secrets, `${ca}.crt`)));
    const line = r.stdout.split('\n').find((l) => l.startsWith(`${ca} `));
    const want = kubeadmDate(new Date(cert.validTo));
    if (!line?.includes(want))
      throw new Error(
        `kubeadm certs check-expiration on ${host}: ${ca} should expire ${want} (secrets/${ca}.crt); it says: ${line ?? '(no line)'}\n${r.stdout}`,
      );
  }
  return r.stdout;
}

/**
 * The eviction thresholds each node's running kubelet holds (its /configz through the API server) include `expected`:
 * a joining node takes the settings kubeadm init uploaded. Returns them as one line; throws naming a node that differs.
 */
export function kubeletThresholds(kubectl: Kubectl, nodes: readonly PlanHost[], expected: Record<string, string>): string {
  for (const n of nodes) {
    const r = kubectl.run(['get', '--raw', `/api/v1/nodes/${n.name}/proxy/configz`]);
    if (r.status !== 0) throw new Error(`${n.name}: kubelet configz: ${r.stderr.trim()}`);
    const held = (JSON.parse(r.stdout) as { kubeletconfig: { evictionHard?: Record<string, string> } }).kubeletconfig.evictionHard ?? {};
    const wrong = Object.entries(expected).filter(([k, v]) => held[k] !== v);
    if (wrong.length > 0) throw new Error(`${n.name}'s kubelet holds evictionHard ${JSON.stringify(held)}, not ${JSON.stringify(expected)}`);
  }
  return `${Object.entries(expected)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')} on ${nodes.map((n) => n.name).join(', ')}`;
}
