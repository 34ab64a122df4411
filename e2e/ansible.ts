/**
 * `npm run e2e:ansible -- [INVENTORY]` (root): the Ansible rollout on booted hosts. Boots one Debian 12 container per
 * host with sshd (Debian's openssh-server) and Python 3 from the local repository, authorizes a key made here, and runs
 * ansible-core from this machine in a controller namespace on the hosts' bridge:
 *   1. `ansible-playbook -i out/ansible/inventory.ini out/ansible/site.yml` brings up etcd and the load balancers
 *      (checked as the per-host e2e checks them) and runs the Kubernetes nodes' bundles as far as they can run here;
 *   2. a second run reports changed=0 on every host and restarts no unit;
 *   3. with haproxy masked on one load balancer, its run.sh fails: the rollout stops in that step, showing its error,
 *      and no later step starts.
 * Kubernetes nodes run `--only preflight,files` (kubeha_run_args in host_vars, as an operator may set it): kubeadm,
 * kubelet and kubectl are neither in Debian nor reachable offline, and a container cannot load kernel modules.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Testbed } from './booted.js';
import { generate, planOf, type Plan, type PlanHost } from './bundles.js';
import { checkEtcd, listening, unitState } from './checks.js';
import { ensureImage, REPO_MOUNT, REPO_PACKAGES } from './image.js';
import { runAsync, runOrThrow, tailLines, waitFor, type Ran } from './proc.js';
import { KUBERNETES_NODE_PHASES } from './scenario.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const START = performance.now();
/** Packages the hosts need for Ansible: an SSH server and the Python its modules run on (served by the local repository). */
const ANSIBLE_HOST_PACKAGES = REPO_PACKAGES.filter((p) => p === 'openssh-server' || p === 'python3');
/** The controller's name on the bridge (booted like a host; only its network namespace is used). */
const CONTROLLER = 'controller';

function say(line: string): void {
  console.log(`[e2e-ansible ${((performance.now() - START) / 1000).toFixed(1).padStart(6)}s] ${line}`);
}

const isKubernetesNode = (h: PlanHost) => h.roles.includes('control-plane') || h.roles.includes('worker');

/** The PLAY RECAP of an ansible-playbook run: per host, its counters (ok, changed, failed, ...). */
export function recapOf(output: string): Map<string, Record<string, number>> {
  const recap = new Map<string, Record<string, number>>();
  const at = output.lastIndexOf('PLAY RECAP');
  for (const line of at < 0 ? [] : output.slice(at).split('\n').slice(1)) {
    const m = /^(\S+)\s+:\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    recap.set(m[1]!, Object.fromEntries([...m[2]!.matchAll(/(\w+)=(\d+)/g)].map((x) => [x[1]!, Number(x[2])])));
  }
  return recap;
}

/** An address on the hosts' /24 that no host and no VIP uses, for the controller. */
function controllerAddress(plan: Plan): string {
  const used = new Set([...plan.hosts.map((h) => h.address), plan.controlPlaneEndpoint.replace(/:\d+$/, '')]);
  const base = plan.hosts[0]!.address.replace(/\.\d+$/, '');
  for (let i = 250; i > 1; i--) if (!used.has(`${base}.${i}`)) return `${base}.${i}`;
  throw new Error(`no free address on ${base}.0/24 for the controller`);
}

/** The inventory used here: the given one (default: the e2e's) with Ansible logging in as root, without sudo. */
function ansibleInventory(source: string, work: string): string {
  const doc = JSON.parse(readFileSync(source, 'utf8')) as Record<string, unknown>;
  doc.ansible = { ...(doc.ansible as object | undefined), user: 'root', become: false };
  const path = join(work, 'inventory.json');
  writeFileSync(path, JSON.stringify(doc, null, 2));
  return path;
}

/** The operator's files beside the playbook: the SSH key and known-hosts file, and run.sh's phases on Kubernetes nodes. */
function writeAnsibleVars(out: string, work: string, plan: Plan): void {
  const dir = join(out, 'ansible');
  mkdirSync(join(dir, 'group_vars'), { recursive: true });
  mkdirSync(join(dir, 'host_vars'), { recursive: true });
  writeFileSync(
    join(dir, 'group_vars', 'all.yml'),
    [
      `ansible_ssh_private_key_file: ${join(work, 'id_ed25519')}`,
      `ansible_ssh_common_args: -o UserKnownHostsFile=${join(work, 'known_hosts')} -o StrictHostKeyChecking=accept-new`,
      'ansible_python_interpreter: /usr/bin/python3',
      '',
    ].join('\n'),
  );
  for (const h of plan.hosts.filter(isKubernetesNode)) {
    writeFileSync(join(dir, 'host_vars', `${h.name}.yml`), `kubeha_run_args: ${JSON.stringify(['--only', KUBERNETES_NODE_PHASES.join(',')])}\n`);
  }
}

/** Installs sshd and Python from the local repository on a host, authorizes the key, and waits for port 22. */
async function prepareHost(bed: Testbed, host: string, publicKey: string): Promise<void> {
  for (const argv of [
    ['apt-get', 'update', '-qq'],
    ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...ANSIBLE_HOST_PACKAGES],
  ]) {
    const r = await bed.exec(host, argv, 600_000);
    if (r.status !== 0) throw new Error(`${host}: ${argv.join(' ')} failed:\n${tailLines(r.stdout + r.stderr, 20)}`);
  }
  bed.copyIn(host, publicKey, '/root/.ssh/authorized_keys', 0o600);
  await waitFor(`sshd on ${host}`, () => listening(bed, host, 22), 60_000, 500);
}

/** Runs ansible-playbook from the controller namespace with plain output. */
function playbook(bed: Testbed, out: string, work: string): Promise<Ran> {
  const env = [
    'ANSIBLE_NOCOLOR=1',
    'ANSIBLE_FORCE_COLOR=0',
    'ANSIBLE_FORKS=10',
    'ANSIBLE_PIPELINING=True',
    `ANSIBLE_SSH_CONTROL_PATH_DIR=${join(work, 'cp')}`,
    `ANSIBLE_LOCAL_TEMP=${join(work, 'ansible-tmp')}`,
  ];
  const argv = [
    'ip',
    'netns',
    'exec',
    bed.hosts.get(CONTROLLER)!.netns,
    'env',
    ...env,
    'ansible-playbook',
    '-i',
    join(out, 'ansible', 'inventory.ini'),
    join(out, 'ansible', 'site.yml'),
  ];
  return runAsync(argv, 1_200_000);
}

/** Fails unless the run ended as `want` says; returns its recap. */
function expectRun(
  what: string,
  ran: Ran,
  plan: Plan,
  want: (host: PlanHost, counts: Record<string, number> | undefined) => string | null,
): Map<string, Record<string, number>> {
  const output = ran.stdout + ran.stderr;
  const recap = recapOf(output);
  const problems = plan.hosts.map((h) => want(h, recap.get(h.name))).filter((p): p is string => p !== null);
  if (problems.length) throw new Error(`${what}: ${problems.join('; ')} (exit ${ran.status})\n${tailLines(output, 60)}`);
  return recap;
}

const recapLine = (recap: Map<string, Record<string, number>>) => [...recap].map(([h, c]) => `${h} changed=${c.changed}`).join(', ');

async function mainAnsible(argv: string[]): Promise<number> {
  if (process.getuid?.() !== 0) throw new Error('npm run e2e:ansible must run as root (it boots containers and makes network namespaces)');
  const image = ensureImage(say);
  say(`image ${image.root} (${image.cached ? 'cached' : `built in ${image.seconds.toFixed(0)} s`})`);
  const work = mkdtempSync(join(tmpdir(), 'kubeha-e2e-ansible-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  const inventory = ansibleInventory(resolve(argv[0] ?? join(REPO, 'e2e', 'inventories', 'default.json')), work);
  const plan = await planOf(inventory);
  const out = join(work, 'out');
  await generate(inventory, out, join(work, 'secrets'));
  runOrThrow(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'kubeha-e2e-ansible', '-f', join(work, 'id_ed25519')]);
  writeAnsibleVars(out, work, plan);
  say(`generated ${plan.hosts.length} bundles and out/ansible/ (user root, no sudo; key ${join(work, 'id_ed25519')})`);

  // The tag keeps this run's namespaces apart from any other harness run (khe2e<tag>...).
  const tag = `a${(process.pid % 1_000_000).toString(36)}`.slice(0, 6);
  const specs = [...plan.hosts.map((h) => ({ name: h.name, address: h.address })), { name: CONTROLLER, address: controllerAddress(plan) }];
  const bed = await Testbed.boot({
    hosts: specs,
    image: image.root,
    shared: [{ source: image.repo, target: REPO_MOUNT }],
    workDir: join(work, 'testbed'),
    tag,
    log: say,
  });
  try {
    say(`booted ${bed.hosts.size} containers (controller ${controllerAddress(plan)})`);
    await Promise.all(plan.hosts.map((h) => prepareHost(bed, h.name, join(work, 'id_ed25519.pub'))));
    say(`sshd and python3 installed from the local repository on ${plan.hosts.length} hosts; the test's key authorized for root`);
    await rollouts(bed, plan, out, work);
    return 0;
  } finally {
    bed.teardownSync();
  }
}

/** The three rollouts and their checks. */
async function rollouts(bed: Testbed, plan: Plan, out: string, work: string): Promise<void> {
  const first = await playbook(bed, out, work);
  const recap1 = expectRun('first rollout', first, plan, (h, c) =>
    !c ? `${h.name} missing from the recap` : c.failed || c.unreachable ? `${h.name} failed` : c.changed === 0 ? `${h.name} reported no change` : null,
  );
  if (first.status !== 0) throw new Error(`first rollout exited ${first.status}:\n${tailLines(first.stdout + first.stderr, 60)}`);
  say(`ROLLOUT 1: ansible-playbook exited 0 in ${first.seconds.toFixed(1)} s; ${recapLine(recap1)}`);
  await checkServices(bed, plan);

  const units = unitsOf(plan);
  const before = await Promise.all(units.map(([h, u]) => unitState(bed, h, u)));
  const second = await playbook(bed, out, work);
  const recap2 = expectRun('second rollout', second, plan, (h, c) =>
    !c ? `${h.name} missing from the recap` : c.changed !== 0 || c.failed ? `${h.name} changed=${c.changed} failed=${c.failed}` : null,
  );
  if (second.status !== 0) throw new Error(`second rollout exited ${second.status}`);
  const after = await Promise.all(units.map(([h, u]) => unitState(bed, h, u)));
  const restarted = units.filter((_, i) => before[i] !== after[i]).map(([h, u]) => `${u} on ${h}`);
  if (restarted.length) throw new Error(`the second rollout restarted ${restarted.join(', ')}`);
  say(
    `ROLLOUT 2: exit 0 in ${second.seconds.toFixed(1)} s, changed=0 on all ${recap2.size} hosts; no unit restarted (${units.length} units: MainPID and start time)`,
  );

  await failedRollout(bed, plan, out, work);
}

/** What the per-host e2e checks after the etcd and load-balancer steps: etcd quorum with mutual TLS, the LB daemons. */
async function checkServices(bed: Testbed, plan: Plan): Promise<void> {
  const etcd = plan.hosts.filter((h) => h.roles.includes('etcd'));
  const cp = plan.hosts.find((h) => h.roles.includes('control-plane'))!;
  const seconds = await checkEtcd(
    bed,
    cp.name,
    etcd.map((h) => `https://${h.address}:2379`),
    60_000,
  );
  say(`CHECK etcd: ${etcd.length} members healthy and started from ${cp.name} with its client certificate (+${seconds.toFixed(1)} s); refused without one`);
  const port = Number(plan.controlPlaneEndpoint.split(':').pop());
  for (const lb of plan.hosts.filter((h) => h.roles.includes('loadbalancer'))) {
    for (const unit of ['haproxy', 'keepalived']) {
      const state = (await bed.exec(lb.name, ['systemctl', 'is-active', unit], 10_000)).stdout.trim();
      if (state !== 'active') throw new Error(`${lb.name}: ${unit} is ${state} after the rollout`);
    }
    if (!(await listening(bed, lb.name, port))) throw new Error(`${lb.name}: haproxy does not listen on ${port}`);
  }
  say(`CHECK load balancers: haproxy and keepalived active, haproxy listening on :${port}`);
}

/** [host, unit] of every daemon the bundles start here. */
function unitsOf(plan: Plan): [string, string][] {
  return plan.hosts.flatMap((h): [string, string][] => [
    ...(h.roles.includes('etcd') ? [[h.name, 'etcd'] as [string, string]] : []),
    ...(h.roles.includes('loadbalancer') ? (['haproxy', 'keepalived'].map((u) => [h.name, u]) as [string, string][]) : []),
  ]);
}

/** haproxy masked on the last load balancer: its run.sh fails, the rollout stops in its step with that error. */
async function failedRollout(bed: Testbed, plan: Plan, out: string, work: string): Promise<void> {
  const lbs = plan.hosts.filter((h) => h.roles.includes('loadbalancer'));
  const victim = lbs.at(-1)!;
  for (const argv of [
    ['systemctl', 'stop', 'haproxy'],
    ['systemctl', 'mask', 'haproxy'],
  ]) {
    const r = await bed.exec(victim.name, argv, 30_000);
    if (r.status !== 0) throw new Error(`${victim.name}: ${argv.join(' ')}: ${r.stderr}`);
  }
  const stepOf = (h: PlanHost) => plan.order.findIndex((s) => s.hosts.includes(h.name));
  const failedStep = stepOf(victim);
  const third = await playbook(bed, out, work);
  const output = third.stdout + third.stderr;
  expectRun('rollout with a failing host', third, plan, (h, c) => {
    if (h === victim) return c?.failed === 1 ? null : `${h.name} should have failed`;
    if (stepOf(h) > failedStep) return c ? `${h.name} (step ${stepOf(h) + 1}) ran after the failure` : null;
    return c && c.failed === 0 && c.changed === 0 ? null : `${h.name} should have run unchanged`;
  });
  if (third.status === 0) throw new Error('the rollout with a failing host exited 0');
  const errors = runShErrors(output, victim.name);
  if (!errors.some((l) => l.includes('masked'))) throw new Error(`the output lacks ${victim.name}'s run.sh error:\n${tailLines(output, 40)}`);
  if (output.includes(`Step ${failedStep + 2} of`)) throw new Error(`step ${failedStep + 2} started after ${victim.name} failed`);
  say(
    `ROLLOUT 3: haproxy masked on ${victim.name}: exit ${third.status} after ${third.seconds.toFixed(1)} s, stopped in step ${failedStep + 1}; ` +
      `steps ${failedStep + 2}-${plan.order.length} never started. ${victim.name}'s run.sh error as Ansible showed it:\n    ${errors.join('\n    ')}`,
  );
}

/** The error lines of a host's failed run.sh in ansible-playbook's output (its `fatal: [HOST]: FAILED! => {...}` result). */
function runShErrors(output: string, host: string): string[] {
  const line = output.split('\n').find((l) => l.startsWith(`fatal: [${host}]: FAILED! => `));
  if (!line) return [];
  const result = JSON.parse(line.slice(line.indexOf('=> ') + 3)) as { stderr_lines?: string[] };
  return (result.stderr_lines ?? []).filter((l) => /masked|error/.test(l));
}

mainAnsible(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`\ne2e-ansible FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
