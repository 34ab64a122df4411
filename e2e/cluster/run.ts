/**
 * What both real-cluster runs share (e2e:cluster, e2e:upgrade): the site filled from `gen artifacts` of the inventories
 * under test, the booted hosts with the site's namespace as their router and an operator's workstation beside them,
 * kubectl there through the VIP, diagnostics on failure, and a kept testbed's record.
 */
import { copyFileSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main as gen } from '../../src/cli/main.js';
import type { ArtifactList } from '../../src/render/mirror-list.js';
import { Testbed } from '../booted.js';
import { generate, planOf, unpackBundle, type Plan } from '../bundles.js';
import { ensureImage, REPO_MOUNT } from '../image.js';
import { nodeContainerdDropIn } from '../node-host.js';
import { freeAddresses, type InventoryDoc, siteInventory } from './inventory.js';
import { recordKept } from './keep.js';
import { adminKubeconfig, Kubectl } from './kube.js';
import type { ClusterInput } from './scenario.js';
import { kubernetesRelease } from './components.js';
import { programsOf } from './programs.js';
import { fillSite, mergeArtifactLists, siteMirrors, startSite, type RunningSite, type Site, type SiteBuild } from './site.js';

const START = performance.now();

/** Prints a line with the seconds since the start, under a label. */
export function sayer(label: string): (line: string) => void {
  return (line) => console.log(`[${label} ${((performance.now() - START) / 1000).toFixed(1).padStart(6)}s] ${line}`);
}

/** `gen ARGS` in this process; its standard output, or an error with its words. */
export async function genOut(args: string[]): Promise<string> {
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
  if (code !== 0) throw new Error(`gen ${args.join(' ')} failed (${code}):\n${err}${out}`);
  return out;
}

/** What the run made, for the checks and the end. */
export interface Run {
  bed: Testbed;
  plan: Plan;
  work: string;
  site: Site;
  running: RunningSite;
  client: string;
  kubectl: Kubectl;
  inventory: InventoryDoc;
  inventoryPath: string;
  siteAddress: string;
}

/** An inventory with the site's additions, written to `path`; returns the path. */
export function siteInventoryFile(source: string, siteAddress: string, built: SiteBuild, path: string): string {
  siteInventory(source, siteMirrors(siteAddress, built), path);
  return path;
}

/** The most one run writes (hosts' upper layers, containerd's images, the site): e2e:upgrade measured 8.6 GiB. */
const RUN_DISK_BYTES = 12 * 1024 ** 3;

/** Stops before booting anything when the run's folder has too little free space for one run. */
function enoughDisk(work: string): void {
  const fs = statfsSync(work);
  const free = fs.bavail * fs.bsize;
  if (free < RUN_DISK_BYTES)
    throw new Error(
      `${work}: ${(free / 1024 ** 3).toFixed(1)} GiB free, a real-cluster run needs ${RUN_DISK_BYTES / 1024 ** 3} GiB (hosts, images, site); npm run e2e:down removes kept runs`,
    );
}

/** What the site serves: the artifacts of the run's inventory and of `also` (written as site inventories into `work`), and the probe image. */
async function siteList(inventoryPath: string, also: readonly string[], siteAddress: string, built: SiteBuild, work: string): Promise<ArtifactList> {
  const lists: ArtifactList[] = [];
  for (const path of [inventoryPath, ...also.map((a, j) => siteInventoryFile(a, siteAddress, built, join(work, `inventory-${j + 1}.yaml`)))])
    lists.push(JSON.parse(await genOut(['artifacts', path, '--json'])) as ArtifactList);
  return withProbe(mergeArtifactLists(...lists), siteAddress);
}

/**
 * Boots the hosts and the site's and workstation's namespaces; fills the site from the artifacts of the inventory and of
 * `also` (inventories the run moves to later, e.g. an upgrade's) and starts it; generates and unpacks the bundles.
 */
export async function prepare(source: string, also: readonly string[], built: SiteBuild, work: string, say: (line: string) => void): Promise<Run> {
  enoughDisk(work);
  const image = ensureImage(say);
  say(`image ${image.root} (${image.cached ? 'cached' : `built in ${image.seconds.toFixed(0)} s`})`);
  const plan0 = await planOf(source);
  const vip = plan0.controlPlaneEndpoint.replace(/:\d+$/, '');
  const [siteAddress, clientAddress] = freeAddresses([...plan0.hosts.map((h) => h.address), vip], 2) as [string, string];
  const inventoryPath = join(work, 'inventory.yaml');
  const inventory = siteInventory(source, siteMirrors(siteAddress, built), inventoryPath);
  const site = await fillSite(await siteList(inventoryPath, also, siteAddress, built, work), built, join(work, 'site'), say);
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
  return { bed, plan, work, site, running, client, kubectl: null as unknown as Kubectl, inventory, inventoryPath, siteAddress };
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
export function workstationKubectl(run: Run, built: SiteBuild): Kubectl {
  const first = run.plan.hosts.find((h) => h.roles.includes('control-plane'))!;
  const admin = join(run.work, 'admin.conf');
  copyFileSync(run.bed.pathIn(first.name, '/etc/kubernetes/admin.conf'), admin);
  const kubeconfig = adminKubeconfig(admin, `https://${run.plan.controlPlaneEndpoint}`, join(run.work, 'secrets', 'ca.crt'), join(run.work, 'kubeconfig'));
  rmSync(admin);
  const kubectl = programsOf(built.programs, [kubernetesRelease(run.inventory.cluster.kubernetesVersion).id]).kubectl!;
  return new Kubectl(run.bed, run.client, kubectl, kubeconfig);
}

/** What the story's steps need of the run. */
export function inputOf(run: Run, say: (line: string) => void): ClusterInput {
  return {
    bed: run.bed,
    plan: run.plan,
    kubectl: run.kubectl,
    secrets: join(run.work, 'secrets'),
    workDir: run.work,
    version: run.inventory.cluster.kubernetesVersion,
    dnsDomain: run.inventory.cluster.dnsDomain ?? 'cluster.local',
    probeImage: probeImage(run.site.host),
    evictionHard: run.inventory.cluster.kubelet?.evictionHard ?? {},
    say,
  };
}

/** Commands whose output tells why a host failed (each bounded; what is missing says so). */
const DIAGNOSTICS = [
  ['systemctl', '--failed', '--no-legend', '--plain'],
  ['journalctl', '--no-pager', '-n', '120', '-u', 'kubelet', '-u', 'containerd', '-u', 'haproxy', '-u', 'keepalived', '-u', 'etcd'],
  ['crictl', 'ps', '-a'],
  ['crictl', 'pods'],
] as const;

/** Writes each running host's diagnostics to a folder that outlives the run (no secrets: logs and states only); prints its path. */
export async function diagnose(run: Run): Promise<void> {
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
export function keep(run: Run, say: (line: string) => void): number {
  process.removeAllListeners('exit');
  const record = recordKept(run.bed.keep());
  say(`kept: npm run e2e:down removes it (record ${record})`);
  console.log(`KEEP kubectl=${run.kubectl.binary} kubeconfig=${run.kubectl.kubeconfig} netns=${run.client}`);
  return 0;
}
