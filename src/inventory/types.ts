/** Types of the v1 inventory: the input type is generated from schema/inventory.schema.json; Inventory (after defaults) is checked against it. */
import type { KubehaInventoryV1 } from './schema.generated.js';

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

/** A kubelet hard-eviction signal (cluster.kubelet.evictionHard). */
export type EvictionSignal = 'memory.available' | 'nodefs.available' | 'nodefs.inodesFree' | 'imagefs.available' | 'imagefs.inodesFree' | 'pid.available';

/** The inventory after schema validation and defaults: every optional field with a default is set. */
export interface Inventory {
  cluster: {
    name: string;
    kubernetesVersion: string;
    podSubnet: string;
    serviceSubnet: string;
    nodeNetworks?: string[];
    dnsDomain: string;
    imageRepository: string;
    containerRuntime: 'containerd' | 'docker';
    kubeProxyMode: 'ipvs' | 'iptables' | 'nftables';
    allowCgroupV1: boolean;
    kubelet: { evictionHard?: Partial<Record<EvictionSignal, string>> };
    cni: { plugin: 'flannel'; backend: 'vxlan' | 'host-gw' | 'wireguard' };
    certificates: { keyAlgorithm: 'ecdsa-p256' | 'rsa-2048'; caValidityDays: number; leafValidityDays: number };
    bootstrapTokenTTL: string;
    neighborTable: { gcThresh1: number; gcThresh2: number; gcThresh3: number };
  };
  loadBalancer?: {
    vip: string;
    port: number;
    interface?: string;
    vrrp: 'unicast' | 'multicast';
    virtualRouterId?: number;
    dnsName?: string;
    stats: { enabled: boolean; port: number };
    metricsPort: number;
    maxConnections: number;
  };
  etcd: {
    version: string;
    install: 'release' | 'distro';
    dataDir: string;
    initialClusterState: 'new' | 'existing';
    clientPort: number;
    peerPort: number;
    quotaBackendBytes: number;
    tarballs?: Partial<Record<'amd64' | 'arm64', Download>>;
    metricsPort: number;
    backup: { schedule: string; keep: number; dir: string };
    defrag: { schedule: string };
  };
  mirrors?: Mirrors;
  addons: { kubePrometheus: { enabled: boolean; version?: string; sha256?: string } };
  ansible: { user?: string; become: boolean; workerBatch: string };
  hosts: InventoryHost[];
}

/** A file to download: where, and the SHA-256 it must have. */
export interface Download {
  url: string;
  sha256: string;
}

/** The signing key of a package repository (mirrors.kubernetesPackagesKey, dockerPackagesKey): where from, and how it is checked. */
export interface SigningKey {
  url?: string;
  fingerprints?: string[];
  armored?: string;
}

/** Where downloads and images come from instead of the upstream hosts (inventory `mirrors`). */
export interface Mirrors {
  kubernetesPackages?: string;
  kubernetesPackagesKey?: SigningKey;
  dockerPackages?: string;
  dockerPackagesKey?: SigningKey;
  files?: string;
  registries?: Record<string, string>;
}

/** The inventory as written, before defaults: the type generated from the schema (npm run types). */
export type InventoryInput = KubehaInventoryV1;

// Compile-time guards that the hand-written Inventory (after defaults) and the schema agree: every defaulted
// inventory is a valid input, and both have the same keys at every level. A schema change without a matching
// change here fails the build.
type Expect<T extends true> = T;
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : false;
type Lb = NonNullable<InventoryInput['loadBalancer']>;
type Cluster = InventoryInput['cluster'];
type Etcd = NonNullable<InventoryInput['etcd']>;
export type SchemaAgreement = [
  Expect<Inventory extends InventoryInput ? true : false>,
  Expect<SameKeys<Omit<InventoryInput, '$schema'>, Inventory>>,
  Expect<SameKeys<Cluster, Inventory['cluster']>>,
  Expect<SameKeys<NonNullable<Cluster['cni']>, Inventory['cluster']['cni']>>,
  Expect<SameKeys<NonNullable<Cluster['certificates']>, Inventory['cluster']['certificates']>>,
  Expect<SameKeys<Lb, NonNullable<Inventory['loadBalancer']>>>,
  Expect<SameKeys<NonNullable<Lb['stats']>, NonNullable<Inventory['loadBalancer']>['stats']>>,
  Expect<SameKeys<Etcd, Inventory['etcd']>>,
  Expect<SameKeys<NonNullable<InventoryInput['mirrors']>, Mirrors>>,
  Expect<SameKeys<NonNullable<NonNullable<InventoryInput['mirrors']>['kubernetesPackagesKey']>, SigningKey>>,
  Expect<SameKeys<NonNullable<NonNullable<Etcd['tarballs']>['amd64']>, Download>>,
  Expect<SameKeys<NonNullable<Etcd['backup']>, Inventory['etcd']['backup']>>,
  Expect<SameKeys<NonNullable<Etcd['defrag']>, Inventory['etcd']['defrag']>>,
  Expect<SameKeys<NonNullable<Cluster['neighborTable']>, Inventory['cluster']['neighborTable']>>,
  Expect<SameKeys<NonNullable<InventoryInput['addons']>, Inventory['addons']>>,
  Expect<SameKeys<NonNullable<NonNullable<InventoryInput['addons']>['kubePrometheus']>, Inventory['addons']['kubePrometheus']>>,
  Expect<SameKeys<NonNullable<InventoryInput['ansible']>, Inventory['ansible']>>,
  Expect<SameKeys<InventoryInput['hosts'][number], InventoryHost>>,
];
