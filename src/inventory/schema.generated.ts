/** The inventory as written, generated from schema/inventory.schema.json by `npm run types`; do not edit. */
/* eslint-disable */
/**
 * Cluster name (kubeadm clusterName); also seeds the VRRP router id.
 */
export type RFC1123Label = string;
/**
 * Pod network (flannel Network).
 */
export type IPv4CIDR = string;
/**
 * Service network.
 */
export type IPv4CIDR1 = string;
/**
 * Cluster DNS domain.
 */
export type RFC1123Name = string;
/**
 * Port haproxy listens on.
 */
export type Port = number;
/**
 * Interface that carries the VIP. Default: on each load balancer, the one interface holding the host's address, found by run.sh at run time (it stops with what to set when none or several hold it). Set it to override; a host may override it too.
 */
export type InterfaceName = string;
/**
 * DNS name resolving to the VIP, used as the control-plane endpoint.
 */
export type RFC1123Name1 = string;
export type Port1 = number;
export type Port2 = number;
export type Port3 = number;
/**
 * RFC 1123 host name; becomes the node name and a path.
 */
export type RFC1123Name2 = string;
/**
 * Overrides loadBalancer.interface on this host (run.sh checks that it exists).
 */
export type InterfaceName1 = string;

/**
 * One highly available kubeadm cluster: its settings, its virtual IP and its hosts.
 */
export interface KubehaInventoryV1 {
  /**
   * Editor hint; ignored.
   */
  $schema?: string;
  /**
   * Cluster-wide Kubernetes settings.
   */
  cluster: {
    name?: RFC1123Label;
    /**
     * Exact Kubernetes release, 1.X.Y; picks the kubeadm API and the package repository.
     */
    kubernetesVersion: string;
    podSubnet: IPv4CIDR;
    serviceSubnet?: IPv4CIDR1;
    dnsDomain?: RFC1123Name;
    /**
     * Registry for the control-plane images and the sandbox image.
     */
    imageRepository?: string;
    /**
     * containerd, or docker meaning docker-ce + cri-dockerd.
     */
    containerRuntime?: 'containerd' | 'docker';
    /**
     * kube-proxy mode.
     */
    kubeProxyMode?: 'ipvs' | 'iptables' | 'nftables';
    /**
     * Pod network add-on.
     */
    cni?: {
      /**
       * Only flannel for now.
       */
      plugin?: 'flannel';
      /**
       * flannel backend.
       */
      backend?: 'vxlan' | 'host-gw' | 'wireguard';
    };
    /**
     * Generated key pairs and certificates.
     */
    certificates?: {
      /**
       * Key type of every generated key.
       */
      keyAlgorithm?: 'ecdsa-p256' | 'rsa-2048';
      /**
       * Lifetime of the CAs.
       */
      caValidityDays?: number;
      /**
       * Lifetime of leaf certificates.
       */
      leafValidityDays?: number;
    };
    /**
     * Lifetime of the join token, a Go duration such as 24h0m0s; the first control plane re-creates it on every run.
     */
    bootstrapTokenTTL?: string;
  };
  /**
   * The virtual IP in front of the API servers (keepalived + haproxy). Required with more than one control plane.
   */
  loadBalancer?: {
    /**
     * The virtual IP.
     */
    vip: string;
    port?: Port;
    interface?: InterfaceName;
    /**
     * VRRP transport; unicast works in cloud networks.
     */
    vrrp?: 'unicast' | 'multicast';
    /**
     * VRRP router id, unique per subnet; derived from the cluster name when absent.
     */
    virtualRouterId?: number;
    dnsName?: RFC1123Name1;
    /**
     * haproxy statistics page, on 127.0.0.1 only, behind the generated password.
     */
    stats?: {
      enabled?: boolean;
      port?: Port1;
    };
  };
  /**
   * The external etcd cluster.
   */
  etcd?: {
    /**
     * etcd release installed on etcd hosts.
     */
    version?: string;
    /**
     * release: the pinned upstream tarball, checksum verified; distro: the OS package.
     */
    install?: 'release' | 'distro';
    /**
     * Member data directory (0700).
     */
    dataDir?: string;
    /**
     * new: the members bootstrap a new cluster together. existing: a member with an empty data dir joins the running cluster (set it once the cluster runs, before adding or replacing a member).
     */
    initialClusterState?: 'new' | 'existing';
    clientPort?: Port2;
    peerPort?: Port3;
  };
  /**
   * Every machine of the cluster.
   *
   * @minItems 1
   */
  hosts: {
    name: RFC1123Name2;
    /**
     * The address other hosts reach it on.
     */
    address: string;
    /**
     * What the host does; roles combine freely. The first control plane runs kubeadm init.
     *
     * @minItems 1
     */
    roles: ('control-plane' | 'worker' | 'etcd' | 'loadbalancer')[];
    interface?: InterfaceName1;
  }[];
}
