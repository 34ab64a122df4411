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
export type IPv4CIDR2 = string;
/**
 * Cluster DNS domain.
 */
export type RFC1123Name = string;
/**
 * Port haproxy listens on (on every address of the host): not 22 or another port of the host, nor in the NodePort range 30000-32767 on a Kubernetes node.
 */
export type Port = number;
/**
 * Interface that carries the VIP. Default: on each load balancer, the one interface holding the host's address, found by run.sh at run time (it stops with what to set when none or several hold it). Set it to override; a host may override it too.
 */
export type InterfaceName = string;
/**
 * DNS name resolving to the VIP, used as the control-plane endpoint (a name, not an address).
 */
export type RFC1123Name1 = string;
export type Port1 = number;
/**
 * haproxy's Prometheus exporter (/metrics, plain HTTP on the load balancer's own address) when addons.kubePrometheus is enabled; only the cluster hosts and the pod network may connect (an haproxy ACL).
 */
export type Port2 = number;
export type Port3 = number;
export type Port4 = number;
export type URL = string;
/**
 * SHA-256 of the file, 64 lowercase hex digits.
 */
export type SHA256 = string;
/**
 * etcd metrics (plain HTTP on the member address) when addons.kubePrometheus is enabled; only the cluster hosts and the pod network may connect (an nftables table on the member).
 */
export type Port5 = number;
/**
 * When to take a snapshot: a systemd OnCalendar expression, limited to the shorthands (hourly, daily, weekly, ...) and [WEEKDAYS] [*-MONTH-DAY] HH:MM[:SS] with lists, ranges (..) and steps (/), such as "*-*-* 02:30" or "Mon..Fri 03:00"; times are the host time zone.
 */
export type SystemdCalendarExpression = string;
/**
 * When every member defragments, one after the other: a systemd OnCalendar expression as etcd.backup.schedule takes; times are the host time zone.
 */
export type SystemdCalendarExpression1 = string;
/**
 * Replaces https://pkgs.k8s.io/core:/stable: (the /v1.XX/deb/ or /v1.XX/rpm/ part and the signing key's path are appended as upstream lays them out), e.g. https://mirrors.aliyun.com/kubernetes-new/core/stable. A plain-HTTP mirror needs kubernetesPackagesKey with fingerprints or the armored key (its key would otherwise come over plain HTTP too) and is warned about.
 */
export type URL1 = string;
/**
 * Where run.sh downloads the key instead of the repository's own path: https, or plain http together with fingerprints. Not with armored.
 */
export type URL2 = string;
export type OpenPGPFingerprint = string;
/**
 * Replaces https://download.docker.com (docker-ce, containerd.io and their signing keys), e.g. https://mirrors.aliyun.com/docker-ce. A plain-HTTP mirror needs dockerPackagesKey with fingerprints or the armored key and is warned about.
 */
export type URL3 = string;
/**
 * Prefix of every file run.sh downloads (etcd release tarballs, cri-dockerd, the kube-prometheus source tarball): the URL becomes FILES/UPSTREAM-HOST/UPSTREAM-PATH (kubespray's files_repo layout); the pinned SHA-256 is checked as before.
 */
export type URL4 = string;
export type RegistryMirrorURL = string;
/**
 * RFC 1123 host name; becomes the node name, a path and the host's name in the Ansible rollout: not all, ungrouped or localhost, which Ansible gives a meaning of its own.
 */
export type RFC1123Name2 = string;
/**
 * Overrides loadBalancer.interface on this host (run.sh checks that it exists).
 */
export type InterfaceName1 = string;
/**
 * SHA-256 of the file, 64 lowercase hex digits.
 */
export type SHA2561 = string;

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
    /**
     * The networks the cluster's hosts are in, such as [10.0.8.0/22]: every host's address must lie in one. With addons.kubePrometheus, the metrics ports (etcd's, kube-proxy's, haproxy's exporter) answer these networks and the pod network only. Default: the /24 of each host, so adding a host in a /24 the cluster already has changes no other host's bundle; a host in a new /24 adds it to every host's allow-lists. Set it to the real node networks to make the lists exact and stable.
     *
     * @minItems 1
     * @maxItems 256
     */
    nodeNetworks?: IPv4CIDR2[];
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
     * kube-proxy mode. Unset: nftables from Kubernetes 1.33 (where the mode is GA upstream), iptables before; ipvs is deprecated from 1.35. nftables needs a kernel with nf_tables, 5.13 or later (kube-proxy's own floor): run.sh's preflight stops on a node without it and says to set iptables.
     */
    kubeProxyMode?: 'ipvs' | 'iptables' | 'nftables';
    /**
     * Accept nodes that run on cgroup v1 with Kubernetes 1.35 and later, knowingly: the kubelet gets failCgroupV1: false and kubeadm ignores its SystemVerification preflight check (only that one). Without it run.sh stops on such a node and says so. Upstream is removing cgroup v1 support (planned after 1.37): move the hosts to cgroup v2 (systemd.unified_cgroup_hierarchy=1) when you can.
     */
    allowCgroupV1?: boolean;
    /**
     * Settings of every node's kubelet (its KubeletConfiguration): kubeadm init uploads them and each node takes them when it joins and when it is upgraded; a change on a running cluster reaches the nodes at the next upgrade (kubeha's re-runs do not rewrite a running kubelet's settings).
     */
    kubelet?: {
      /**
       * Hard eviction thresholds by signal, such as {"nodefs.available": "5Gi", "imagefs.available": "10%"}: below one the kubelet reports the pressure, admits no pods and evicts running ones. The signals not given keep the kubelet's defaults (memory.available 100Mi, nodefs.available 10%, nodefs.inodesFree 5%, imagefs.available 15%, imagefs.inodesFree 5%): kubeha writes the whole set, as a kubelet given some thresholds watches only those (mergeDefaultEvictionSettings is off by default). Absolute sizes suit large disks, where 15% can be hundreds of gigabytes.
       */
      evictionHard?: {
        [k: string]: string;
      };
    };
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
       * Lifetime of leaf certificates; at most caValidityDays.
       */
      leafValidityDays?: number;
    };
    /**
     * Lifetime of the join token, a Go duration such as 24h0m0s, more than zero (kubeadm reads zero as never expiring); the first control plane re-creates it on every run.
     */
    bootstrapTokenTTL?: string;
    /**
     * The kernel's neighbour (ARP) table on Kubernetes nodes: net.ipv4.neigh.default.gc_thresh1/2/3 in /etc/sysctl.d/99-kubernetes.conf. A node holds an entry for every node it talks to over its link (and over flannel's), and for every pod on it; past gc_thresh3 the kernel drops packets to new neighbours ("neighbour table overflow"). The kernel's defaults (128, 512, 1024) overflow from a few hundred nodes; kubeha's hold about 60000 neighbours. gcThresh1 <= gcThresh2 <= gcThresh3.
     */
    neighborTable?: {
      /**
       * Below this many entries the kernel collects none.
       */
      gcThresh1?: number;
      /**
       * Above this many entries the kernel collects entries older than 5 s.
       */
      gcThresh2?: number;
      /**
       * The most entries the table holds.
       */
      gcThresh3?: number;
    };
  };
  /**
   * The virtual IP in front of the API servers (keepalived + haproxy). Required with more than one control plane.
   */
  loadBalancer?: {
    /**
     * The virtual IP: no host's address, not 127.0.0.1, nor an unspecified, broadcast, multicast or reserved address.
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
    metricsPort?: Port2;
    /**
     * maxconn of haproxy's API frontend: client connections it holds at once (each with one more to an API server); beyond it, new connections wait in the kernel's queue. A node's kubelet and kube-proxy hold a few each (about 5 a node), so the default serves some 4000 nodes. haproxy's global maxconn stays its own, sized from the file limit systemd gives it (a global value beyond that limit would stop haproxy from starting). Idle connections cost little memory; a busy one up to about 33 kB (haproxy's documentation).
     */
    maxConnections?: number;
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
     * release: the upstream tarball, checksum verified (pinned for known versions, or given in etcd.tarballs); distro: the OS package.
     */
    install?: 'release' | 'distro';
    /**
     * Member data directory (0700, handed to the etcd user), a folder of its own: not a system folder (/var/lib, /etc, ...), nor one inside /etc, /usr, /tmp, /var/log, /home, /root and the like; in /var/lib only a folder named for etcd (/var/lib/etcd, /var/lib/etcd-main: the others are other programs' state); not kubeha's own folders (/var/lib/kubeha, ...), nor above or inside one; not written with . or .. segments.
     */
    dataDir?: string;
    /**
     * new: the members bootstrap a new cluster together. existing: a member with an empty data dir joins the running cluster (set it once the cluster runs, before adding or replacing a member).
     */
    initialClusterState?: 'new' | 'existing';
    clientPort?: Port3;
    peerPort?: Port4;
    /**
     * etcd's --quota-backend-bytes: the database size at which etcd raises the NOSPACE alarm and takes only reads and deletes until it is defragmented and the alarm disarmed. etcd's own default is 2 GiB; 8 GiB is the size etcd's documentation suggests as the most for normal environments. The database is mapped into memory: give members RAM beyond it.
     */
    quotaBackendBytes?: number;
    /**
     * Release tarballs given as URL + SHA-256, by CPU architecture: for versions kubeha has no pinned checksum for, and for private builds of them; for a version kubeha pins, only a copy with the pinned checksum (a different one is refused). Each must unpack to etcd-vVERSION-linux-ARCH/ like upstream's. Used as given: mirrors.files does not rewrite them.
     */
    tarballs?: {
      amd64?: Download;
      arm64?: Download1;
    };
    metricsPort?: Port5;
    /**
     * Scheduled snapshots on every member (etcd-backup.timer runs etcd-backup.service: etcdctl snapshot save), each with its SHA-256; kubeha-etcd-restore restores one (docs/operations.md).
     */
    backup?: {
      schedule?: SystemdCalendarExpression;
      /**
       * How many snapshots of the member to keep (with their .sha256 files); older ones are deleted after each new snapshot.
       */
      keep?: number;
      /**
       * Folder of the snapshots (0700, owned by the etcd user); better on another disk than the data dir. The folders refused for dataDir are refused here too, and /var/backups itself.
       */
      dir?: string;
    };
    /**
     * Scheduled defragmentation on every member (etcd-defrag.timer runs etcd-defrag.service: etcdctl defrag of the member itself), one member at a time: each takes a lock in etcd (etcdctl lock, through the other members) and defragments only while the other members keep the quorum. Defragmentation gives the space of compacted revisions back to the file system and blocks the member while it runs: schedule it off-peak.
     */
    defrag?: {
      schedule?: SystemdCalendarExpression1;
    };
  };
  /**
   * Where run.sh downloads from and where images are pulled from, for sites where the upstream hosts are slow or unreachable. Each key is optional; what is not set keeps the upstream default. gen artifacts lists what a mirror must hold.
   */
  mirrors?: {
    kubernetesPackages?: URL1;
    kubernetesPackagesKey?: SigningKey;
    dockerPackages?: URL3;
    dockerPackagesKey?: SigningKey1;
    files?: URL4;
    /**
     * Upstream registry (registry.k8s.io, docker.io, ghcr.io, quay.io, ...) to the URL of its mirror, https://HOST[:PORT][/PATH]: REGISTRY/NAME:TAG is pulled as HOST[:PORT][/PATH]/NAME:TAG. The cluster's own images (control plane, coredns, pause, kube-proxy, flannel) are written with the mirror's name; containerd also gets a hosts.toml per registry for every other image, docker a registry-mirrors entry for docker.io (docker takes no path there).
     */
    registries?: {
      [k: string]: RegistryMirrorURL;
    };
  };
  /**
   * How the generated Ansible rollout (out/ansible/inventory.ini and site.yml) reaches the hosts. Ansible's own ways override it: group_vars/, host_vars/, -e.
   */
  ansible?: {
    /**
     * SSH user (ansible_user). Absent: Ansible's default (-u, remote_user in ansible.cfg, ~/.ssh/config, else the local user).
     */
    user?: string;
    /**
     * Run the bundles through sudo (ansible_become); false when the SSH user is root.
     */
    become?: boolean;
    /**
     * Workers rolled out at a time: a count ("10") or a percentage of the workers ("20%"); -e kubeha_worker_batch=N overrides it.
     */
    workerBatch?: string;
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
  /**
   * Optional cluster addons.
   */
  addons?: {
    /**
     * Monitoring with kube-prometheus: etcd, kube-proxy, kube-controller-manager, kube-scheduler and haproxy expose their metrics to the cluster's hosts and pods only, the first control plane gets the Services, Endpoints and monitors kube-prometheus needs on a kubeadm cluster with external etcd, and installs kube-prometheus from its release source tarball (docs/operations.md).
     */
    kubePrometheus?: {
      /**
       * Turn the addon on.
       */
      enabled?: boolean;
      /**
       * kube-prometheus release (without the v), one whose compatibility table lists cluster.kubernetesVersion's minor; default: the newest such release kubeha knows.
       */
      version?: string;
      sha256?: SHA2561;
    };
  };
}
/**
 * The tarball for x86_64 hosts.
 */
export interface Download {
  url: URL;
  sha256: SHA256;
}
/**
 * The tarball for aarch64 hosts.
 */
export interface Download1 {
  url: URL;
  sha256: SHA256;
}
/**
 * The signing key of the Kubernetes package repository (apt signed-by keyring, dnf gpgkey): by default the repository's own Release.key / repomd.xml.key, fetched over the repository's scheme. fingerprints pins it (pkgs.k8s.io's is DE15B14486CD377B9E876E1A234654DA9A296436): run.sh checks with gpg that every key in the file is one of them before trusting it; armored gives the key itself, shipped in the bundle; url fetches it from elsewhere (docs/operations.md).
 */
export interface SigningKey {
  url?: URL2;
  /**
   * OpenPGP fingerprints of the keys the repository is signed with, as gpg --show-keys prints them (40 hexadecimal digits; spaces are ignored). Every primary key in the downloaded (or armored) file must be one of them, or run.sh stops before the key is trusted.
   *
   * @minItems 1
   * @maxItems 10
   */
  fingerprints?: OpenPGPFingerprint[];
  /**
   * The ASCII-armored public key itself (gpg --armor --export KEYID; a YAML block scalar |), shipped in the bundle as /etc/kubeha/keys/REPOSITORY-packages.asc: nothing is downloaded. With fingerprints, run.sh checks it too.
   */
  armored?: string;
}
/**
 * The signing key of the docker-ce / containerd.io repository (apt signed-by keyring, dnf gpgkey): by default the repository's own linux/DISTRIBUTION/gpg, fetched over the repository's scheme. fingerprints pins it (download.docker.com's is 9DC858229FC7DD38854AE2D88D81803C0EBFCD88), armored gives it, url fetches it from elsewhere (docs/operations.md).
 */
export interface SigningKey1 {
  url?: URL2;
  /**
   * OpenPGP fingerprints of the keys the repository is signed with, as gpg --show-keys prints them (40 hexadecimal digits; spaces are ignored). Every primary key in the downloaded (or armored) file must be one of them, or run.sh stops before the key is trusted.
   *
   * @minItems 1
   * @maxItems 10
   */
  fingerprints?: OpenPGPFingerprint[];
  /**
   * The ASCII-armored public key itself (gpg --armor --export KEYID; a YAML block scalar |), shipped in the bundle as /etc/kubeha/keys/REPOSITORY-packages.asc: nothing is downloaded. With fingerprints, run.sh checks it too.
   */
  armored?: string;
}
