/**
 * `npm run e2e:upgrade -- [INVENTORY] [--keep]` (root): the cluster of e2e:cluster at the inventory's version with a
 * workload serving, then upgraded one minor live, as an operator does it: the inventory at the next minor, `gen` with
 * the previous out/, `gen plan --out` for the order, the bundles run in that order (one run.sh killed mid-way and run
 * again). Measured throughout: the API through the VIP and the workload through its Service, every 0.5 s.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dump } from 'js-yaml';
import { minorOf } from '../../src/common/versions.js';
import { failureOf, planOf, runBundle, runBundleKilled, unpackBundle, type PlanHost } from '../bundles.js';
import { runSync } from '../proc.js';
import { kubernetesNodes, nodesReady, systemPodsRunning } from './checks.js';
import { readInventory } from './inventory.js';
import { apiReadyPoll, type PollReport, Poller } from './kube.js';
import { diagnose, genOut, inputOf, keep, prepare, type Run, sayer, workstationKubectl } from './run.js';
import { runInPlanOrder, secondRunChangesNothing } from './scenario.js';
import { buildSite, SITE_VERSIONS, type SiteBuild } from './site.js';
import { PROBE, WEB, watchReports, webManifest } from './workload.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const say = sayer('e2e:upgrade');

interface Options {
  inventory: string;
  keep: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { inventory: join(REPO, 'e2e', 'inventories', 'cluster.yaml'), keep: false };
  for (const arg of argv) {
    if (arg === '--keep') options.keep = true;
    else if (!arg.startsWith('-')) options.inventory = resolve(arg);
    else {
      console.error('usage: npm run e2e:upgrade -- [INVENTORY] [--keep]   (as root; default inventory e2e/inventories/cluster.yaml)');
      process.exit(arg === '-h' || arg === '--help' ? 0 : 2);
    }
  }
  return options;
}

/** The version the site serves for the next minor after `from` (the upgrade's target). */
export function nextServed(from: string, served: readonly string[]): string {
  const to = served.find((v) => minorOf(v) === minorOf(from) + 1);
  if (!to) throw new Error(`the e2e site serves no Kubernetes 1.${minorOf(from) + 1} (it serves ${served.join(', ')}): no upgrade to run from ${from}`);
  return to;
}

/** The operator's one change for the upgrade: the inventory at the new version, written beside the run. */
function upgradedInventory(source: string, to: string, path: string): string {
  const inv = readInventory(source);
  inv.cluster.kubernetesVersion = to;
  writeFileSync(path, `# ${source} at Kubernetes ${to} (e2e:upgrade)\n${dump(inv, { lineWidth: -1 })}`);
  return path;
}

/** etcd as seen from the workstation with the API servers' client certificate: `member list` (ids and names). */
function etcdMembers(run: Run, built: SiteBuild): string {
  const secrets = join(run.work, 'secrets');
  const endpoints = run.plan.hosts.filter((h) => h.roles.includes('etcd')).map((h) => `https://${h.address}:2379`);
  const tls = [
    `--cacert=${join(secrets, 'etcd', 'ca.crt')}`,
    `--cert=${join(secrets, 'apiserver-etcd-client.crt')}`,
    `--key=${join(secrets, 'apiserver-etcd-client.key')}`,
  ];
  const r = runSync(['ip', 'netns', 'exec', run.client, built.programs.paths.etcdctl!, `--endpoints=${endpoints.join(',')}`, ...tls, 'member', 'list'], 30_000);
  if (r.status !== 0) throw new Error(`etcdctl member list: ${r.stderr}`);
  return r.stdout.trim().split('\n').sort().join('\n');
}

/** A report of a poller in words. */
const figures = (r: { failed: number; longestGapSeconds: number }, tries: number) =>
  `${tries} polls, ${r.failed} failed, longest gap ${r.longestGapSeconds.toFixed(1)} s`;

/** The cluster at the starting version, its workload serving, and what must not change (etcd's members, a marker). */
async function before(run: Run, built: SiteBuild): Promise<string> {
  await runInPlanOrder(inputOf(run, say), 'install');
  run.kubectl = workstationKubectl(run, built);
  const nodes = kubernetesNodes(run.plan.hosts);
  await nodesReady(run.kubectl, nodes, run.inventory.cluster.kubernetesVersion, 600_000);
  await systemPodsRunning(run.kubectl, nodes, 900_000);
  run.kubectl.must(['create', 'namespace', PROBE.namespace]);
  run.kubectl.apply(webManifest(inputOf(run, say).probeImage, inputOf(run, say).dnsDomain), join(run.work, 'web.yaml'));
  run.kubectl.must(['rollout', 'status', '-n', PROBE.namespace, `deployment/${WEB.name}`, '--timeout=300s'], 320_000);
  run.kubectl.must(['rollout', 'status', '-n', PROBE.namespace, 'daemonset/watcher', '--timeout=300s'], 320_000);
  run.kubectl.must(['create', 'configmap', 'kubeha-e2e-before-upgrade', '-n', 'default', `--from-literal=version=${run.inventory.cluster.kubernetesVersion}`]);
  say(`v${run.inventory.cluster.kubernetesVersion} up, ${WEB.name} (${WEB.replicas} replicas) serving behind its Service, watched from every node`);
  return etcdMembers(run, built);
}

/** Runs one plan step's hosts one at a time (control planes strictly so; the one worker of the e2e too); `kill` is run twice. */
async function upgradeStep(run: Run, hosts: readonly PlanHost[], kill: string | null): Promise<void> {
  for (const host of hosts) {
    if (host.name === kill) {
      // Killed between its drain and its uncordon (after the cordon, before the kubelet is back): the re-run finishes.
      const killed = await runBundleKilled(run.bed, host.name, [], /\+ kubectl --kubeconfig \S+ (cordon|drain) /, 3000);
      say(`${host.name}: run.sh killed ${killed.seconds.toFixed(0)} s in, after its drain began; running it again`);
    }
    const r = await runBundle(run.bed, host.name, [], 30 * 60_000);
    if (r.status !== 0) throw new Error(`upgrade: ${failureOf(r)}`);
    say(`${host.name} upgraded in ${r.seconds.toFixed(0)} s`);
  }
}

/** `gen plan --out` for the order (against the previous out/), `gen` with the new inventory, every bundle run in that order. */
async function upgrade(run: Run, upgraded: string): Promise<void> {
  const out = join(run.work, 'out');
  const planText = await genOut(['plan', upgraded, '--out', out]);
  const pending = planText.split('\n').find((l) => l.startsWith('Upgrade pending:'));
  if (!pending) throw new Error(`gen plan --out shows no pending upgrade:\n${planText}`);
  say(pending);
  await genOut([upgraded, '--out', out, '--secrets', join(run.work, 'secrets'), '--quiet']);
  const plan = await planOf(upgraded);
  for (const h of plan.hosts) await unpackBundle(run.bed, h.name, out);
  const worker = plan.hosts.find((h) => h.roles.includes('worker') && !h.roles.includes('control-plane'));
  for (const step of plan.order) {
    const hosts = step.hosts.map((name) => plan.hosts.find((h) => h.name === name)!);
    await upgradeStep(run, hosts, worker?.name ?? null);
  }
  run.plan = plan;
}

/** After the upgrade: every node and control-plane image at the new version, etcd as before, the marker still there. */
async function after(run: Run, built: SiteBuild, to: string, members: string): Promise<void> {
  const nodes = kubernetesNodes(run.plan.hosts);
  say(`every node Ready at v${to}: ${(await nodesReady(run.kubectl, nodes, to, 600_000)).toFixed(0)} s`);
  await systemPodsRunning(run.kubectl, nodes, 600_000);
  const images = run.kubectl.must([
    'get',
    'pods',
    '-n',
    'kube-system',
    '-l',
    'tier=control-plane',
    '-o',
    'jsonpath={range .items[*]}{.spec.containers[0].image}{"\\n"}{end}',
  ]);
  const stale = images.split('\n').filter((i) => i && !i.endsWith(`:v${to}`));
  if (stale.length > 0 || images.trim() === '') throw new Error(`control-plane static pods not on v${to}: ${stale.join(', ') || 'none listed'}`);
  say(`every control-plane static pod on v${to} images (${images.trim().split('\n').length})`);
  const now = etcdMembers(run, built);
  if (now !== members) throw new Error(`etcd's members changed during the upgrade:\nbefore:\n${members}\nafter:\n${now}`);
  run.kubectl.must(['get', 'configmap', 'kubeha-e2e-before-upgrade', '-n', 'default']);
  say('etcd untouched: the same members (ids, names, URLs), and what was written before the upgrade is there');
}

/** A rollout back to the old version: refused by gen against the previous output, and by run.sh on a host. */
async function rollbackRefused(run: Run, source: string): Promise<void> {
  const inventory = join(run.work, 'inventory.yaml');
  const refused = await genOut([inventory, '--out', join(run.work, 'out'), '--secrets', join(run.work, 'secrets'), '--quiet']).then(
    () => null,
    (e: Error) => e.message,
  );
  if (refused === null) throw new Error(`gen accepted ${source}'s older version against the upgraded out/`);
  say(`gen refuses the rollback: ${refused.split('\n').find((l) => /downgrade|older/.test(l)) ?? refused.split('\n')[1]}`);
  const old = join(run.work, 'rollback');
  await genOut([inventory, '--out', old, '--secrets', join(run.work, 'secrets'), '--quiet']);
  const host = run.plan.hosts.find((h) => h.roles.includes('control-plane'))!;
  await unpackBundle(run.bed, host.name, old);
  const r = await runBundle(run.bed, host.name, [], 120_000);
  if (r.status !== 1 || !r.output.includes('kubeadm cannot downgrade a cluster')) throw new Error(`run.sh of the old bundle on ${host.name}: ${failureOf(r)}`);
  say(
    `run.sh of the v${run.inventory.cluster.kubernetesVersion} bundle on ${host.name} refuses: ${r.output
      .split('\n')
      .find((l) => l.includes('cannot downgrade'))
      ?.replace(/^.*error: /, '')}`,
  );
}

async function story(run: Run, built: SiteBuild, upgraded: string, to: string, source: string): Promise<void> {
  const members = await before(run, built);
  const api = new Poller(apiReadyPoll(run.kubectl));
  const started = Date.now();
  await upgrade(run, upgraded);
  const apiReport: PollReport = await api.stop();
  const ended = Date.now();
  say(`upgrade ${run.inventory.cluster.kubernetesVersion} -> ${to} took ${((ended - started) / 1000).toFixed(0)} s`);
  say(`the API through the VIP during the upgrade: ${figures(apiReport, apiReport.polls)} (last error: ${apiReport.lastError || 'none'})`);
  for (const w of watchReports(run.kubectl, started, ended))
    say(`${WEB.name} through its Service from ${w.node}: ${figures(w, w.tries)}${w.failed ? ` (last: ${w.lastFailure})` : ''}`);
  await after(run, built, to, members);
  await secondRunChangesNothing({ ...inputOf(run, say), version: to });
  await rollbackRefused(run, source);
}

async function mainUpgrade(argv: readonly string[]): Promise<number> {
  const options = parseArgs(argv);
  if (process.getuid?.() !== 0) throw new Error('npm run e2e:upgrade must run as root (it boots containers, makes namespaces and cgroups)');
  const built = await buildSite(say);
  const from = readInventory(options.inventory).cluster.kubernetesVersion;
  const to = nextServed(from, SITE_VERSIONS.kubernetes);
  const work = mkdtempSync(join(tmpdir(), 'kubeha-e2e-upgrade-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  const raw = upgradedInventory(options.inventory, to, join(work, 'upgraded-source.yaml'));
  const run = await prepare(options.inventory, [raw], built, work, say);
  try {
    await story(run, built, join(work, 'inventory-1.yaml'), to, options.inventory);
    return options.keep ? keep(run, say) : 0;
  } catch (error) {
    await diagnose(run);
    throw error;
  } finally {
    if (!options.keep) {
      await run.running.stop();
      run.bed.teardownSync();
    }
  }
}

mainUpgrade(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`\ne2e:upgrade FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
