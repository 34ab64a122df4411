/** ClusterModel: the resolved plan every renderer reads. */
import type { Inventory, Mirrors, Role } from '../inventory/types.js';

/** One host with everything derived about it. */
export interface HostModel {
  name: string;
  address: string;
  roles: readonly Role[];
  /** Interface that carries the VIP on this host as the inventory names it; null: the one holding `address`, found by run.sh. */
  interface: string | null;
  isControlPlane: boolean;
  isWorker: boolean;
  isEtcd: boolean;
  isLoadBalancer: boolean;
  /** Runs kubelet: a control plane or a worker. */
  isKubernetesNode: boolean;
  /** The first control plane, which runs `kubeadm init`. */
  isInit: boolean;
  /** VRRP priority on load balancers, highest first in inventory order; null elsewhere. */
  vrrpPriority: number | null;
  /** Addresses of the other load balancers (unicast VRRP peers). */
  vrrpPeers: string[];
  /** Index of the run step this host's bundle belongs to (see ClusterModel.runOrder). */
  step: number;
}

/** One member of the external etcd cluster. */
export interface EtcdMember {
  name: string;
  address: string;
  clientURL: string;
  peerURL: string;
}

/** One step of the bring-up order: hosts in a step may run their bundles at the same time. */
export interface RunStep {
  title: string;
  hosts: string[];
}

/**
 * The inventory's mirrors, with the registries as a Map: an image's registry is looked up by a name from the inventory,
 * and a name such as "constructor" must find nothing but a mirror the inventory gives (a plain object has one).
 */
export type ModelMirrors = Omit<Mirrors, 'registries'> & { registries: ReadonlyMap<string, string> };

/** The resolved cluster. */
export interface ClusterModel {
  cluster: Inventory['cluster'] & {
    minor: number;
    kubeadmApiVersion: 'kubeadm.k8s.io/v1beta3' | 'kubeadm.k8s.io/v1beta4';
    criSocket: string;
  };
  loadBalancer: (NonNullable<Inventory['loadBalancer']> & { virtualRouterId: number }) | null;
  /** host:port every node uses to reach the API servers. */
  controlPlaneEndpoint: { host: string; port: number };
  etcd: Inventory['etcd'] & { members: EtcdMember[]; initialCluster: string; clientEndpoints: string[] };
  addons: Inventory['addons'];
  hosts: HostModel[];
  init: HostModel;
  controlPlanes: HostModel[];
  runOrder: RunStep[];
  /** Where downloads and images come from instead of upstream (no key, and no registry, when the inventory sets none). */
  mirrors: ModelMirrors;
  /** How the generated Ansible rollout reaches the hosts. */
  ansible: Inventory['ansible'];
}
