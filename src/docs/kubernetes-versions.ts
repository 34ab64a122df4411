/** The "Kubernetes versions" section of docs/inventory.md, printed from the version table so the two cannot drift. Pure. */
import { atPatch, KUBERNETES_MINORS, type PerPatch } from '../common/kubernetes-versions.js';

/** A per-patch value as the docs print it: `3.5.11; 3.5.24 from .14`. */
function perPatch(value: PerPatch): string {
  if (typeof value === 'string') return value;
  return Object.keys(value)
    .map(Number)
    .map((p) => (p === 0 ? atPatch(value, 0) : `${atPatch(value, p)} from .${p}`))
    .join('; ');
}

/** The section: one row per minor kubeha supports. */
export function kubernetesVersionsReference(): string {
  const out = [
    '## Kubernetes versions',
    '',
    'What kubeha writes and checks for each supported `cluster.kubernetesVersion` minor (src/common/kubernetes-versions.ts,',
    'with the source of every column). etcd: the oldest external etcd kubeadm accepts; containerd: the oldest run.sh keeps',
    '(an older one is replaced by containerd.io); kube-prometheus: the releases whose compatibility table lists the',
    'minor, the last being the default; kube-proxy modes: "(default)" marks the mode of an inventory that sets none. A minor',
    'past its end of life on the day gen runs (its clock, read once) is accepted with a warning that says when it ended.',
    '',
    '| minor | packages | kubeadm API | etcd | pause | CoreDNS | containerd | kube-proxy modes | cgroup v1 | kube-prometheus | end of life |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const m of KUBERNETES_MINORS) {
    const mark = (mode: string) => (mode === m.defaultKubeProxyMode ? ' (default)' : mode === 'ipvs' && m.ipvsDeprecated ? ' (deprecated)' : '');
    const modes = m.kubeProxyModes.map((mode) => `${mode}${mark(mode)}`).join(', ');
    const cells = [
      `1.${m.minor}`,
      `\`${m.packages}\``,
      m.kubeadmApi.replace('kubeadm.k8s.io/', ''),
      perPatch(m.minExternalEtcd),
      m.pause,
      perPatch(m.coredns),
      m.containerd,
      modes,
      m.cgroupV1Refused ? 'refused unless `allowCgroupV1`' : 'accepted',
      m.kubePrometheus.join(', ') || 'none: the addon is refused',
      m.endOfLife,
    ];
    out.push(`| ${cells.join(' | ')} |`);
  }
  return out.join('\n') + '\n';
}
