/**
 * `npm run e2e:cluster -- [INVENTORY] [--keep]` (root): a real Kubernetes cluster from the bundles. Upstream programs
 * built from their Go modules fill an air-gapped site (signed package repositories, a files mirror, a registry) from
 * `gen artifacts --json`; one booted Debian 12 host per inventory host runs its run.sh whole, in `gen plan` order; then
 * the cluster is checked as its users would check it (e2e/cluster/scenario.ts). See e2e/README.md.
 */
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main as gen } from '../../src/cli/main.js';
import type { ArtifactList } from '../../src/render/mirror-list.js';
import { Testbed } from '../booted.js';
import { generate, planOf, unpackBundle, type Plan } from '../bundles.js';
import { ensureImage, REPO_MOUNT } from '../image.js';
import { nodeContainerdDropIn } from '../node-host.js';
import { freeAddresses, type InventoryDoc, readInventory, siteInventory } from './inventory.js';
import { kubernetesRelease } from './components.js';
import { recordKept } from './keep.js';
import { adminKubeconfig, Kubectl } from './kube.js';
import { programsOf } from './programs.js';
import { buildSite, fillSite, SITE_VERSIONS, siteMirrors, startSite, type RunningSite, type Site, type SiteBuild } from './site.js';
import { checkCertificates, checkCluster, failovers, powerBackOn, runInPlanOrder, secondRunChangesNothing, type ClusterInput } from './scenario.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const START = performance.now();

/** Prints a line with the seconds since the start. */
function say(line: string): void {
  console.log(`[e2e:cluster ${((performance.now() - START) / 1000).toFixed(1).padStart(6)}s] ${line}`);
}

interface Options {
  inventory: string;
  keep: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { inventory: join(REPO, 'e2e', 'inventories', 'cluster.yaml'), keep: false };
  for (const arg of argv) {
    if (arg === '--keep') options.keep = true;
    else if (arg === '-h' || arg === '--help') usage(0);
    else if (!arg.startsWith('-')) options.inventory = resolve(arg);
    else usage(2);
  }
  return options;
}

function usage(code: number): never {
  (code ? console.error : console.log)('usage: npm run e2e:cluster -- [INVENTORY] [--keep]   (as root; default inventory e2e/inventories/cluster.yaml)');
  process.exit(code);
}

/** `gen ARGS` in this process; its standard output, or an error with its words. */
async function genOut(args: string[]): Promise<string> {
  let out = '';
  let err = '';
  const code = await gen(args, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  if (code !== 0) throw new Error(`gen ${args.join(' ')} failed (${code}):\n${err}`);
  return out;
}

/** What the run made, for the checks and the end. */
interface Run {
  bed: Testbed;
  plan: Plan;
  work: string;
  site: Site;
  running: RunningSite;
  client: string;
  kubectl: Kubectl;
  inventory: InventoryDoc;
}

/** Boots the hosts and the site's and workstation's namespaces; fills and starts the site; generates and unpacks the bundles. */
async function prepare(options: Options, built: SiteBuild, work: string): Promise<Run> {
  const image = ensureImage(say);
  say(`image ${image.root} (${image.cached ? 'cached' : `built in ${image.seconds.toFixed(0)} s`})`);
  const plan0 = await planOf(options.inventory);
  const vip = plan0.controlPlaneEndpoint.replace(/:\d+$/, '');
  const [siteAddress, clientAddress] = freeAddresses([...plan0.hosts.map((h) => h.address), vip], 2) as [string, string];
  const inventoryPath = join(work, 'inventory.yaml');
  const inventory = siteInventory(options.inventory, siteMirrors(siteAddress, built), inventoryPath);
  const list = withProbe(JSON.parse(await genOut(['artifacts', inventoryPath, '--json'])) as ArtifactList, siteAddress);
  const site = await fillSite(list, built, join(work, 'site'), say);
  for (const note of site.notes) say(`site: ${note}`);
  const plan = await planOf(inventoryPath);
  const started = performance.now();
  const bed = await Testbed.boot({
    hosts: plan.hosts.map((h) => ({ name: h.name, address: h.address })),
    image: image.root,
    shared: [{ source: image.repo, target: REPO_MOUNT }],
    workDir: join(work, 'testbed'),
    tag: (process.pid % 100000).toString(36),
    log: say,
    kubernetes: true,
    bootTimeoutMs: 180_000,
  });
  say(`booted ${bed.hosts.size} hosts in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const siteNs = bed.addPeer('site', siteAddress);
  const client = bed.addPeer('ws', clientAddress);
  const running = await startSite(site, siteNs, say);
  bed.adopt(...running.children);
  // The site's namespace is the hosts' router, as an air-gapped site's router: it forwards nothing.
  bed.routeVia(siteAddress);
  say(`site at ${site.origin} (namespace ${siteNs}); workstation ${clientAddress} (namespace ${client})`);
  await prepareHosts(bed, site.caCert, work);
  await generate(inventoryPath, join(work, 'out'), join(work, 'secrets'));
  for (const h of plan.hosts) await unpackBundle(bed, h.name, join(work, 'out'));
  say(`generated and unpacked ${plan.hosts.length} bundles`);
  return { bed, plan, work, site, running, client, kubectl: null as unknown as Kubectl, inventory };
}

/** The harness's own workload image (e2e/go/probe), the one thing the site serves that is not the cluster's. */
export const probeImage = (siteAddress: string) => `${siteAddress}/kubeha-e2e/probe:1`;

/** The artifact list with the probe image added as the harness's own (gen artifacts lists only what the cluster pulls). */
function withProbe(list: ArtifactList, siteAddress: string): ArtifactList {
  const image = probeImage(siteAddress);
  // Not one of the cluster's image names: the site's image specs know it as the harness's own.
  const own = { name: 'probe', image, upstream: image, pulledBy: "the e2e harness's workload" } as unknown as ArtifactList['images'][number];
  return { ...list, images: [...list.images, own] };
}

/**
 * What a site's golden image has before any bundle runs: the site's CA trusted (the mirrors are HTTPS), and, on this
 * machine, a containerd drop-in for what its hosts lack (e2e/node-host.ts nodeContainerdDropIn).
 */
async function prepareHosts(bed: Testbed, caCert: string, work: string): Promise<void> {
  const dropIn = nodeContainerdDropIn();
  if (dropIn) writeFileSync(join(work, 'containerd-drop-in.toml'), dropIn);
  for (const name of bed.hosts.keys()) {
    bed.copyIn(name, caCert, '/usr/local/share/ca-certificates/kubeha-e2e-site.crt');
    const r = await bed.exec(name, ['update-ca-certificates'], 60_000);
    if (r.status !== 0) throw new Error(`${name}: update-ca-certificates: ${r.stderr}`);
    if (dropIn) bed.copyIn(name, join(work, 'containerd-drop-in.toml'), '/etc/containerd/conf.d/kubeha-e2e.toml');
  }
}

/** kubectl of the cluster's version on the workstation through VIP:port with the admin credentials, trusting the secrets folder's CA only. */
function workstationKubectl(run: Run, built: SiteBuild): Kubectl {
  const first = run.plan.hosts.find((h) => h.roles.includes('control-plane'))!;
  const admin = join(run.work, 'admin.conf');
  copyFileSync(run.bed.pathIn(first.name, '/etc/kubernetes/admin.conf'), admin);
  const kubeconfig = adminKubeconfig(admin, `https://${run.plan.controlPlaneEndpoint}`, join(run.work, 'secrets', 'ca.crt'), join(run.work, 'kubeconfig'));
  rmSync(admin);
  const kubectl = programsOf(built.programs, [kubernetesRelease(run.inventory.cluster.kubernetesVersion).id]).kubectl!;
  return new Kubectl(run.bed, run.client, kubectl, kubeconfig);
}

/** What the story's steps need of the run. */
function inputOf(run: Run): ClusterInput {
  return {
    bed: run.bed,
    plan: run.plan,
    kubectl: run.kubectl,
    secrets: join(run.work, 'secrets'),
    workDir: run.work,
    version: run.inventory.cluster.kubernetesVersion,
    dnsDomain: run.inventory.cluster.dnsDomain ?? 'cluster.local',
    probeImage: probeImage(run.site.host),
    say,
  };
}

/** The story (scenario.ts) in order, then what the site served: a request for anything unlisted fails the run. */
async function story(run: Run, built: SiteBuild): Promise<void> {
  await runInPlanOrder(inputOf(run), 'first run');
  run.kubectl = workstationKubectl(run, built);
  await checkCluster(inputOf(run));
  await secondRunChangesNothing(inputOf(run));
  await checkCertificates(inputOf(run));
  await powerBackOn(inputOf(run), await failovers(inputOf(run)));
  const unlisted = run.running.unlisted();
  say(`site served:\n${run.running.summary()}`);
  if (unlisted.length > 0)
    throw new Error(`the hosts asked the site for what gen artifacts did not list:\n${unlisted.map((r) => `${r.method} ${r.path}`).join('\n')}`);
}

async function mainCluster(argv: readonly string[]): Promise<number> {
  const options = parseArgs(argv);
  if (process.getuid?.() !== 0) throw new Error('npm run e2e:cluster must run as root (it boots containers, makes namespaces and cgroups)');
  const version = readInventory(options.inventory).cluster.kubernetesVersion;
  if (!SITE_VERSIONS.kubernetes.includes(version))
    throw new Error(`${options.inventory} is at Kubernetes ${version}: the e2e site serves ${SITE_VERSIONS.kubernetes.join(' and ')}`);
  const built = await buildSite(say);
  const work = mkdtempSync(join(tmpdir(), 'kubeha-e2e-cluster-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  const run = await prepare(options, built, work);
  try {
    await story(run, built);
    return options.keep ? keep(run) : 0;
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

/** Commands whose output tells why a host failed (each bounded; what is missing says so). */
const DIAGNOSTICS = [
  ['systemctl', '--failed', '--no-legend', '--plain'],
  ['journalctl', '--no-pager', '-n', '120', '-u', 'kubelet', '-u', 'containerd', '-u', 'haproxy', '-u', 'keepalived', '-u', 'etcd'],
  ['crictl', 'ps', '-a'],
  ['crictl', 'pods'],
] as const;

/** Writes each running host's diagnostics to a folder that outlives the run (no secrets: logs and states only); prints its path. */
async function diagnose(run: Run): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kubeha-e2e-cluster-logs-'));
  for (const host of run.bed.hosts.values()) {
    if (host.pid1 === 0) continue;
    const parts: string[] = [];
    for (const argv of DIAGNOSTICS) {
      const r = await run.bed.exec(host.name, argv, 30_000);
      parts.push(`$ ${argv.join(' ')}  (exit ${r.status ?? r.signal})\n${r.stdout}${r.stderr}`);
    }
    writeFileSync(join(dir, `${host.name}.log`), parts.join('\n'));
  }
  console.error(`diagnostics of every host: ${dir}`);
}

/** Leaves the cluster running: the testbed's record for e2e:down, and the line that says how to reach it. */
function keep(run: Run): number {
  process.removeAllListeners('exit');
  const record = recordKept(run.bed.keep());
  say(`kept: npm run e2e:down removes it (record ${record})`);
  console.log(`KEEP kubectl=${run.kubectl.binary} kubeconfig=${run.kubectl.kubeconfig} netns=${run.client}`);
  return 0;
}

mainCluster(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`\ne2e:cluster FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
