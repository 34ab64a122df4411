/** Names in kubeha's Ansible rollout (out/ansible/inventory.ini): its groups, and the host names Ansible gives a meaning of its own. */

/** The group of each kubeha role (Ansible group names take no dashes). */
export const ANSIBLE_ROLE_GROUPS = {
  etcd: 'kubeha_etcd',
  loadbalancer: 'kubeha_loadbalancer',
  'control-plane': 'kubeha_control_plane',
  worker: 'kubeha_worker',
} as const;

/** The group of run step i (0-based). */
export const ansibleStepGroup = (i: number): string => `kubeha_step${i + 1}`;

const CONFUSED =
  "a host of this name in out/ansible/inventory.ini is confused with the group, and the rollout can send another host's bundle, keys included, to this address or this bundle to another host; rename the host";

/** Host names Ansible treats specially (its built-in groups, its implicit localhost), with why each is refused. */
export const ANSIBLE_RESERVED_HOSTS: ReadonlyMap<string, string> = new Map([
  ['all', `"all" is the group of every host in Ansible: ${CONFUSED}`],
  ['ungrouped', `"ungrouped" is the group of hosts in no other group in Ansible: ${CONFUSED}`],
  [
    'localhost',
    '"localhost" is the machine that runs Ansible (its implicit localhost, which tasks delegated to localhost reach): this host\'s bundle, keys included, could be unpacked there; it is no name for a Kubernetes node either; use the host\'s own name',
  ],
]);

/** Why a host name cannot be used in the rollout's inventory, or null. */
export function ansibleHostNameProblem(name: string): string | null {
  const reserved = ANSIBLE_RESERVED_HOSTS.get(name);
  if (reserved) return reserved;
  const group = Object.values(ANSIBLE_ROLE_GROUPS).includes(name as never) || /^kubeha_step[0-9]+$/.test(name);
  return group ? `"${name}" is the name of a group in out/ansible/inventory.ini: ${CONFUSED}` : null;
}
