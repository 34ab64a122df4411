/** The inventory of the etcd backup tests. */
import type { InventoryDoc } from './helpers.js';

/** Three etcd members (one also a worker) and a control plane on loopback addresses, with the given etcd section. */
export const backupCluster = (etcd: Record<string, unknown> = {}): InventoryDoc => ({
  cluster: { name: 'backuptest', kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' },
  etcd,
  hosts: [
    { name: 'cp1', address: '127.0.2.1', roles: ['control-plane'] },
    { name: 'm1', address: '127.0.1.1', roles: ['etcd'] },
    { name: 'm2', address: '127.0.1.2', roles: ['etcd'] },
    { name: 'm3', address: '127.0.1.3', roles: ['etcd', 'worker'] },
  ],
});
