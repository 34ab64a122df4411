/** The Ansible rollout of the bundles: out/ansible/inventory.ini and site.yml, in gen plan's order. Pure. */
import { dump } from 'js-yaml';
import { ANSIBLE_ROLE_GROUPS, ansibleStepGroup } from '../common/ansible-names.js';
import { ANSIBLE_DIR } from '../common/output-layout.js';
import type { ClusterModel, HostModel, RunStep } from '../model/types.js';
import type { Templates } from './context.js';
import { renderTemplate } from './templates.js';

/** A file of the rollout, by its path under the output folder. */
export interface RolloutFile {
  path: string;
  mode: number;
  bytes: Buffer;
}

/** Folder on each host that receives its tarball and the unpacked bundle (inventory variable kubeha_remote_dir). */
export const REMOTE_DIR = '/var/lib/kubeha/bundles';
/** The last line of run.sh's output: how many changes it made (or, with --dry-run, would make). */
export const CHANGED_LINE_PREFIX = 'kubeha: changed=';

/** Ansible groups of hosts by kubeha role. */
const ROLE_GROUPS: readonly { name: string; has: (h: HostModel) => boolean }[] = [
  { name: ANSIBLE_ROLE_GROUPS.etcd, has: (h) => h.isEtcd },
  { name: ANSIBLE_ROLE_GROUPS.loadbalancer, has: (h) => h.isLoadBalancer },
  { name: ANSIBLE_ROLE_GROUPS['control-plane'], has: (h) => h.isControlPlane },
  { name: ANSIBLE_ROLE_GROUPS.worker, has: (h) => h.isWorker },
];

/** Renders out/ansible/inventory.ini and out/ansible/site.yml for the model. */
export function renderRollout(model: ClusterModel, templates: Templates): RolloutFile[] {
  const file = (name: string, text: string): RolloutFile => ({ path: `${ANSIBLE_DIR}/${name}`, mode: 0o644, bytes: Buffer.from(text, 'utf8') });
  return [file('inventory.ini', renderInventory(model, templates)), file('site.yml', renderPlaybook(model))];
}

function renderInventory(model: ClusterModel, templates: Templates): string {
  const byName = new Map(model.hosts.map((h) => [h.name, h]));
  const steps = model.runOrder.map((step, i) => ({
    number: i + 1,
    name: ansibleStepGroup(i),
    title: step.title,
    hosts: step.hosts.map((n) => byName.get(n)!),
  }));
  const roles = ROLE_GROUPS.map((g) => ({ name: g.name, hosts: model.hosts.filter(g.has).map((h) => h.name) })).filter((g) => g.hosts.length);
  const vars = [
    ...(model.ansible.user ? [{ name: 'ansible_user', value: model.ansible.user }] : []),
    { name: 'ansible_become', value: String(model.ansible.become) },
    { name: 'kubeha_bundle_dir', value: '{{ playbook_dir }}/..' },
    { name: 'kubeha_remote_dir', value: REMOTE_DIR },
  ];
  return renderTemplate(templates, 'ansible/inventory.ini.ejs', { cluster: model.cluster.name, steps, roles, vars });
}

/**
 * How many hosts of a step run at once: workers in batches, every other host one at a time, whatever roles it combines
 * (a certificate renewal or a unit change restarts etcd, the API server or haproxy: never on all members at once).
 */
function serialOf(step: RunStep, model: ClusterModel): number | string {
  const names = new Set(step.hosts);
  const hosts = model.hosts.filter((h) => names.has(h.name));
  if (hosts.every((h) => h.isWorker && !h.isControlPlane && !h.isEtcd && !h.isLoadBalancer))
    return `{{ kubeha_worker_batch | default('${model.ansible.workerBatch}') }}`;
  return 1;
}

/** Whether the step holds members of a new etcd cluster: started for the first time, they need each other for quorum. */
function bootstrapsEtcd(step: RunStep, model: ClusterModel): boolean {
  return model.etcd.initialClusterState === 'new' && model.hosts.some((h) => h.isEtcd && step.hosts.includes(h.name));
}

/** A play of the rollout. */
type Play = Record<string, unknown>;

/** The plays of one step: one, or for a new etcd cluster two (members without data together, then one at a time). */
function playsOf(step: RunStep, i: number, model: ClusterModel): Play[] {
  const name = `Step ${i + 1} of ${model.runOrder.length}: ${step.title}`;
  // The first failed host stops the whole rollout (in a batched step too): later steps need this one.
  const play = (title: string, tasks: Play[], serial: number | string | null) => ({
    name: title,
    hosts: ansibleStepGroup(i),
    gather_facts: false,
    any_errors_fatal: true,
    ...(serial === null ? {} : { serial }),
    tasks,
    handlers: BUNDLE_HANDLERS,
  });
  if (!bootstrapsEtcd(step, model)) return [play(name, BUNDLE_TASKS, serialOf(step, model))];
  const data = {
    name: 'Check whether this etcd member has data (it ran before)',
    'ansible.builtin.stat': { path: `${model.etcd.dataDir}/member`, get_checksum: false },
    register: 'kubeha_etcd_data',
    tags: ['kubeha_run'],
  };
  return [
    play(`${name}, first start of the members together`, [...STAGE_TASKS, data, { ...RUN_TASK, when: 'not kubeha_etcd_data.stat.exists' }], null),
    play(`${name}, one at a time`, [{ ...RUN_TASK, when: 'kubeha_run is not defined or kubeha_run is skipped' }], 1),
  ];
}

function renderPlaybook(model: ClusterModel): string {
  const plays = model.runOrder.flatMap((step, i) => playsOf(step, i, model));
  const header = [
    `# Rolls out the kubeha bundles of cluster ${model.cluster.name} in gen plan's order. Generated by kubeha; do not edit.`,
    '#   ansible-playbook -i out/ansible/inventory.ini out/ansible/site.yml            # --check: run.sh --dry-run',
    '# Each host gets out/HOST.tar.gz (checked against out/SHA256SUMS on arrival), unpacks it and runs run.sh as root;',
    '# the first failed host stops the rollout. etcd members, load balancers and control planes go one at a time',
    '# (members of a new etcd cluster start together the first time: they need each other for quorum), workers in',
    `# batches of ${model.ansible.workerBatch} (-e kubeha_worker_batch=N overrides it).`,
  ];
  return header.join('\n') + '\n---\n' + dump(plays, { noRefs: true, lineWidth: -1, quoteStyle: 'double' });
}

const TARBALL = '{{ kubeha_remote_dir }}/{{ inventory_hostname }}.tar.gz';
const SHA256SUMS_VARS = {
  kubeha_sums: "{{ lookup('ansible.builtin.file', kubeha_bundle_dir ~ '/SHA256SUMS') }}",
  kubeha_sums_name: '{{ inventory_hostname }}.tar.gz',
  kubeha_expected_sha256: "{{ kubeha_sums | regex_findall('(?m)^([0-9a-f]{64})  ' ~ kubeha_sums_name | regex_escape ~ '$') | first | default('') }}",
};
const SHOW_OUTPUT = "Show run.sh's output";

/** The tasks that stage the bundle on a host. They run under --check too, so run.sh --dry-run can read the bundle. */
const STAGE_TASKS = [
  {
    name: 'Make the folder for the bundle',
    'ansible.builtin.file': { path: '{{ kubeha_remote_dir }}', state: 'directory', mode: '0700' },
    check_mode: false,
    tags: ['kubeha_bundle'],
  },
  {
    name: 'Copy the bundle',
    'ansible.builtin.copy': { src: '{{ kubeha_bundle_dir }}/{{ inventory_hostname }}.tar.gz', dest: TARBALL, mode: '0600' },
    check_mode: false,
    tags: ['kubeha_bundle'],
  },
  {
    name: 'Read the SHA-256 of the copied bundle',
    'ansible.builtin.stat': { path: TARBALL, checksum_algorithm: 'sha256' },
    register: 'kubeha_tarball',
    tags: ['kubeha_bundle'],
  },
  {
    name: 'Check the copied bundle against SHA256SUMS',
    'ansible.builtin.assert': {
      that: ['kubeha_tarball.stat.checksum == kubeha_expected_sha256'],
      fail_msg: "The copied bundle has SHA-256 {{ kubeha_tarball.stat.checksum }}, SHA256SUMS says {{ kubeha_expected_sha256 or 'nothing' }}",
      quiet: true,
    },
    vars: SHA256SUMS_VARS,
    tags: ['kubeha_bundle'],
  },
  {
    name: 'Unpack the bundle',
    'ansible.builtin.unarchive': { src: TARBALL, dest: '{{ kubeha_remote_dir }}', remote_src: true },
    check_mode: false,
    tags: ['kubeha_bundle'],
  },
];

/** The task that runs run.sh. */
const RUN_TASK: Record<string, unknown> = {
  name: 'Run run.sh (--dry-run under --check)',
  // kubeha_run_args (a list, e.g. ["--only", "files"] in host_vars) passes more arguments to run.sh.
  'ansible.builtin.command': { argv: "{{ [kubeha_run_sh] + kubeha_run_args | default([]) + (['--dry-run'] if ansible_check_mode else []) }}" },
  vars: { kubeha_run_sh: '{{ kubeha_remote_dir }}/{{ inventory_hostname }}/run.sh' },
  register: 'kubeha_run',
  // run.sh ends with "kubeha: changed=N"; anything else (an older bundle) counts as a change.
  changed_when: `kubeha_run.stdout_lines[-1:] != ['${CHANGED_LINE_PREFIX}0']`,
  check_mode: false,
  notify: [SHOW_OUTPUT],
  tags: ['kubeha_run'],
};

/** The tasks every step runs on its hosts. */
const BUNDLE_TASKS = [...STAGE_TASKS, RUN_TASK];

/** Handlers run at the end of each step (or batch): the output of every run.sh that changed something. */
const BUNDLE_HANDLERS = [{ name: SHOW_OUTPUT, 'ansible.builtin.debug': { var: 'kubeha_run.stdout_lines' } }];
