/**
 * `npm run e2e -- [INVENTORY] [--interface NAME]` (root): boots one Debian 12 container per inventory host, runs every
 * bundle's run.sh as an operator would in `gen plan` order, and checks what they built. See e2e/README.md.
 */
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Testbed } from './booted.js';
import { ensureImage, REPO_MOUNT } from './image.js';
import { generate, planOf, unpackBundle, type Plan, type PlanHost, type RunReport } from './bundles.js';
import { metricsPortsOf } from './metrics.js';
import { runScenario } from './scenario.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Command-line options. */
interface Options {
  inventory: string;
  iface: string;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { inventory: join(REPO, 'e2e', 'inventories', 'default.json'), iface: 'eth0' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--interface' && argv[i + 1]) options.iface = argv[++i]!;
    else if (arg === '-h' || arg === '--help') usage(0);
    else if (!arg.startsWith('-')) options.inventory = resolve(arg);
    else usage(2);
  }
  if (!/^[a-z][a-z0-9]{0,14}$/.test(options.iface)) usage(2);
  return options;
}

function usage(code: number): never {
  (code ? console.error : console.log)(
    'usage: npm run e2e -- [INVENTORY] [--interface NAME]   (as root; default inventory e2e/inventories/default.json, interface eth0)',
  );
  process.exit(code);
}

/** Prints a line with the seconds since the start. */
export function say(line: string): void {
  console.log(`[e2e ${((performance.now() - START) / 1000).toFixed(1).padStart(6)}s] ${line}`);
}
const START = performance.now();

/** The summary line of one host: phases, seconds, files installed, services started, over all its runs. */
function summaryLine(host: PlanHost, runs: RunReport[]): string {
  const first = runs.filter((r) => r.installed.length || r.services.length || r === runs[0]);
  const phases = [...new Set(runs.flatMap((r) => r.phases))].join(',');
  const seconds = runs.map((r) => r.seconds.toFixed(1)).join('+');
  const files = first.reduce((n, r) => n + r.installed.length, 0);
  const services = [...new Set(first.flatMap((r) => r.services.map((s) => s.replace(/^systemctl /, ''))))];
  return `${host.name.padEnd(10)} ${host.roles.join(',').padEnd(14)} runs ${runs.length}  phases ${phases}  seconds ${seconds}  files installed ${files}  services started: ${services.join('; ') || 'none'}`;
}

async function mainE2e(argv: string[]): Promise<number> {
  const options = parseArgs(argv);
  if (process.getuid?.() !== 0) throw new Error('npm run e2e must run as root (it boots containers and makes network namespaces)');
  const image = ensureImage(say);
  say(`image ${image.root} (${image.cached ? 'cached' : `built in ${image.seconds.toFixed(0)} s`})`);
  const work = mkdtempSync(join(tmpdir(), 'kubeha-e2e-'));
  // The work folder holds the cluster's secrets: removed on every exit, Ctrl-C included.
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  const plan = await planOf(options.inventory);
  const out = join(work, 'out');
  const secrets = join(work, 'secrets');
  await generate(options.inventory, out, secrets);
  say(`generated ${plan.hosts.length} bundles from ${options.inventory}`);
  const bed = await bootAll(plan, image, work, options.iface);
  try {
    for (const h of plan.hosts) await unpackBundle(bed, h.name, out);
    const runs = await runScenario({ bed, plan, secrets, logDir: join(work, 'logs'), say, metrics: metricsPortsOf(options.inventory) });
    console.log('\nsummary (per host: phases run, run.sh seconds of each run, files installed, services started)');
    for (const h of plan.hosts) console.log(summaryLine(h, runs.get(h.name) ?? []));
    return 0;
  } finally {
    bed.teardownSync();
  }
}

/** Boots one container per host of the plan, with the package repository bound read-only. */
async function bootAll(plan: Plan, image: { root: string; repo: string }, work: string, iface: string): Promise<Testbed> {
  const tag = (process.pid % 100000).toString(36);
  mkdirSync(join(work, 'logs'), { recursive: true });
  const started = performance.now();
  const bed = await Testbed.boot({
    hosts: plan.hosts.map((h) => ({ name: h.name, address: h.address, iface })),
    image: image.root,
    shared: [{ source: image.repo, target: REPO_MOUNT }],
    workDir: join(work, 'testbed'),
    tag,
    log: say,
  });
  const boots = [...bed.hosts.values()].map((h) => `${h.name} ${h.bootSeconds.toFixed(1)}s`).join(', ');
  say(`booted ${bed.hosts.size} hosts in ${((performance.now() - started) / 1000).toFixed(1)} s (${boots})`);
  return bed;
}

mainE2e(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`\ne2e FAILED: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
