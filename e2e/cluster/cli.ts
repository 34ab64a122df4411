/**
 * `npm run e2e:cluster -- [INVENTORY] [--keep]` (root): a real Kubernetes cluster from the bundles. Upstream programs
 * built from their Go modules fill an air-gapped site (signed package repositories, a files mirror, a registry) from
 * `gen artifacts --json`; one booted Debian 12 host per inventory host runs its run.sh whole, in `gen plan` order; then
 * the cluster is checked as its users would check it (e2e/cluster/scenario.ts). See e2e/README.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readInventory } from './inventory.js';
import { diagnose, inputOf, keep, prepare, type Run, sayer, workstationKubectl } from './run.js';
import { checkCertificates, checkCluster, failovers, powerBackOn, runInPlanOrder, secondRunChangesNothing } from './scenario.js';
import { buildSite, SITE_VERSIONS, type SiteBuild } from './site.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const say = sayer('e2e:cluster');

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

/** The story (scenario.ts) in order, then what the site served: a request for anything unlisted fails the run. */
async function story(run: Run, built: SiteBuild): Promise<void> {
  await runInPlanOrder(inputOf(run, say), 'first run');
  run.kubectl = workstationKubectl(run, built);
  await checkCluster(inputOf(run, say));
  await secondRunChangesNothing(inputOf(run, say));
  await checkCertificates(inputOf(run, say));
  await powerBackOn(inputOf(run, say), await failovers(inputOf(run, say)));
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
  const run = await prepare(options.inventory, [], built, work, say);
  try {
    await story(run, built);
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

mainCluster(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`\ne2e:cluster FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
