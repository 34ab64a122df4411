/** Types of the v1 inventory, mirroring schema/inventory.schema.json (the schema is the source of truth). */

/** A role a host can hold. */
export type Role = 'control-plane' | 'worker' | 'etcd' | 'loadbalancer';

/** Every role, in the order hosts of that role are brought up. */
export const ROLES: readonly Role[] = ['etcd', 'loadbalancer', 'control-plane', 'worker'];

/** One host as written in the inventory, after defaults. */
export interface InventoryHost {
  name: string;
  address: string;
  roles: Role[];
  interface?: string;
}

/** The inventory after schema validation and defaults: every optional field with a default is set. */
export interface Inventory {
  cluster: {
    name: string;
    kubernetesVersion: string;
    podSubnet: string;
    serviceSubnet: string;
    dnsDomain: string;
    imageRepository: string;
    containerRuntime: 'containerd' | 'docker';
    kubeProxyMode: 'ipvs' | 'iptables' | 'nftables';
    cni: { plugin: 'flannel'; backend: 'vxlan' | 'host-gw' | 'wireguard' };
    certificates: { keyAlgorithm: 'ecdsa-p256' | 'rsa-2048'; caValidityDays: number; leafValidityDays: number };
    bootstrapTokenTTL: string;
  };
  loadBalancer?: {
    vip: string;
    port: number;
    interface: string;
    vrrp: 'unicast' | 'multicast';
    virtualRouterId?: number;
    dnsName?: string;
    stats: { enabled: boolean; port: number };
  };
  etcd: {
    version: string;
    install: 'release' | 'distro';
    dataDir: string;
    initialClusterState: 'new' | 'existing';
    clientPort: number;
    peerPort: number;
  };
  hosts: InventoryHost[];
}
