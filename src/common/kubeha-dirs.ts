/** The folders kubeha keeps its own state, logs, downloads and programs in on a host: root's alone. */

/**
 * kubeha's own folders: applied-state stamps, kubeadm markers, the Ansible bundle folder and the unpacked addon under
 * /var/lib/kubeha, run.sh's log, the addon's download cache, the nftables rules, the etcd scripts. No data folder of
 * the inventory may be one of them, hold one or lie inside one.
 */
export const KUBEHA_DIRS: readonly string[] = ['/var/lib/kubeha', '/var/log/kubeha', '/var/cache/kubeha', '/etc/kubeha', '/usr/local/lib/kubeha'];
