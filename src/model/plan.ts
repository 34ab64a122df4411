/** A human-readable plan: hosts × roles × services, and the order to run the bundles in. Pure. */
import type { ClusterModel, HostModel } from './types.js';

/** The services a host runs, from its roles and the cluster's runtime. */
export function servicesOf(host: HostModel, model: ClusterModel): string[] {
  const runtime = model.cluster.containerRuntime === 'docker' ? ['docker', 'cri-docker'] : ['containerd'];
  return [
    ...(host.isEtcd ? ['etcd'] : []),
    ...(host.isLoadBalancer ? ['haproxy', 'keepalived'] : []),
    ...(host.isKubernetesNode ? [...runtime, 'kubelet'] : []),
    ...(host.isControlPlane ? ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] : []),
    ...(host.isKubernetesNode ? ['kube-proxy', 'kube-flannel'] : []),
  ];
}

/** What run.sh does with kubeadm on this host. */
export function kubeadmActionOf(host: HostModel): string {
  if (host.isInit) return 'kubeadm init';
  if (host.isControlPlane) return 'kubeadm join --control-plane';
  if (host.isWorker) return 'kubeadm join';
  return '-';
}

/** Formats the plan as aligned text; `upgrade` lines (a pending version change) follow the order. */
export function describePlan(model: ClusterModel, upgrade: readonly string[] = []): string {
  const lb = model.loadBalancer;
  const header = [
    `cluster ${model.cluster.name}: Kubernetes ${model.cluster.kubernetesVersion} (${model.cluster.kubeadmApiVersion}), ${model.cluster.containerRuntime}, kube-proxy ${model.cluster.kubeProxyMode}, flannel ${model.cluster.cni.backend}`,
    `control-plane endpoint ${model.controlPlaneEndpoint.host}:${model.controlPlaneEndpoint.port}` +
      (lb ? ` (VIP ${lb.vip}, ${lb.vrrp} VRRP, router id ${lb.virtualRouterId})` : ' (single control plane, no VIP)'),
    `etcd ${model.etcd.version}: ${model.etcd.members.map((m) => m.name).join(', ')}`,
    '',
  ];
  const rows = [
    ['HOST', 'ADDRESS', 'ROLES', 'KUBEADM', 'SERVICES'],
    ...model.hosts.map((h) => [h.name, h.address, h.roles.join(','), kubeadmActionOf(h), servicesOf(h, model).join(',')]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
  const order = [
    '',
    'Run the bundles in this order (hosts of one step may run at the same time; a host waits, bounded, for what it needs from earlier steps):',
    ...model.runOrder.map((step, i) => `  ${i + 1}. ${step.title}: ${step.hosts.join(', ')}`),
  ];
  return [...header, ...table, ...order, ...upgrade].join('\n') + '\n';
}

/** The plan as data, for --json. */
export function planJson(model: ClusterModel) {
  return {
    cluster: { name: model.cluster.name, kubernetesVersion: model.cluster.kubernetesVersion, kubeadmApiVersion: model.cluster.kubeadmApiVersion },
    controlPlaneEndpoint: `${model.controlPlaneEndpoint.host}:${model.controlPlaneEndpoint.port}`,
    hosts: model.hosts.map((h) => ({
      name: h.name,
      address: h.address,
      roles: h.roles,
      kubeadm: kubeadmActionOf(h),
      services: servicesOf(h, model),
      step: h.step + 1,
    })),
    order: model.runOrder,
  };
}
