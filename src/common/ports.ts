/** The fixed ports of the Kubernetes components, declared once: the inventory rules check them, the firewall opens them. */

/** The port every kube-apiserver listens on (kubeadm's default bind port). */
export const API_SERVER_PORT = 6443;

/** A fixed port a Kubernetes component listens on, and whether only control planes run it or every node does. */
export interface ComponentPort {
  port: number;
  what: string;
  on: 'control-plane' | 'node';
}

/** The components' ports, in the order the firewall opens them. */
export const KUBERNETES_PORTS: readonly ComponentPort[] = [
  { port: API_SERVER_PORT, what: 'kube-apiserver', on: 'control-plane' },
  { port: 10250, what: 'kubelet', on: 'node' },
  { port: 10257, what: 'kube-controller-manager', on: 'control-plane' },
  { port: 10259, what: 'kube-scheduler', on: 'control-plane' },
  { port: 10256, what: 'kube-proxy', on: 'node' },
];

/** The ports of the components a host runs: a control plane runs the node components too. */
export function kubernetesPorts(host: { controlPlane: boolean; node: boolean }): ComponentPort[] {
  return KUBERNETES_PORTS.filter((p) => (p.on === 'control-plane' ? host.controlPlane : host.node || host.controlPlane));
}

/** kube-proxy's metrics port (its metricsBindAddress port; 127.0.0.1 only, unless addons.kubePrometheus opens it to the cluster). */
export const KUBE_PROXY_METRICS_PORT = 10249;

/** Ports a host already uses that the firewall leaves alone: sshd, and loopback-only listeners of every node. */
export const HOST_LOCAL_PORTS: readonly (Omit<ComponentPort, 'on'> & { on: 'any' | 'node' })[] = [
  { port: 22, what: 'sshd', on: 'any' },
  { port: 10248, what: 'kubelet health (127.0.0.1)', on: 'node' },
  { port: KUBE_PROXY_METRICS_PORT, what: 'kube-proxy metrics', on: 'node' },
];

/** The ports of HOST_LOCAL_PORTS a host holds: inventory ports must not collide with them either. */
export function hostLocalPorts(host: { node: boolean }): { port: number; what: string }[] {
  return HOST_LOCAL_PORTS.filter((p) => p.on === 'any' || host.node);
}

/** The NodePort range kube-proxy gives to services on every Kubernetes node (the API server's default). */
export const NODE_PORT_RANGE = { first: 30000, last: 32767 } as const;
