/** gen, gen diff and gen check: generate in memory, then write, compare or report. */
import { expiringCertificates } from '../pki/inspect.js';
import { diffBundles, diffFiles, formatDiff, formatHostChange, type HostChange } from '../review/diff.js';
import { ANSIBLE_DIR, type RolloutFile } from '../render/ansible.js';
import { EXPIRY_WARNING_DAYS } from './certs.js';
import type { Invocation } from './args.js';
import { printJson, type Console } from './console.js';
import { openOutputStage } from './output.js';
import { withFolderLocks } from './lock.js';
import { overlap, realFolder } from './folders.js';
import { SecretsError } from '../pki/errors.js';
import type { ClusterModel } from '../model/types.js';
import type { Problem } from '../inventory/index.js';
import { preparePackWorker } from './pack.js';
import { generateInMemory, printWarnings, readExistingBundles, readInventory, redactionsOf } from './pipeline.js';
import { stageSecrets } from './secrets-store.js';
import { checkVersionChange } from './previous.js';
import { describeUpgrade } from '../model/upgrade.js';

/** gen INVENTORY: writes the secrets (when new ones were made) and the output folder, then a summary. */
export async function runGenerate(inv: Invocation, io: Console): Promise<number> {
  const started = Date.now();
  const { model, warnings } = readInventory(inv.inventory!);
  checkVersionChange(inv.inventory!, inv.out, model);
  if (!inv.json) printWarnings(io, inv.inventory!, warnings);
  const dirs = { out: realFolder(inv.out, 'output'), secrets: realFolder(inv.secrets, 'secrets') };
  if (overlap(dirs.out, dirs.secrets)) throw new SecretsError([`${inv.out} and ${inv.secrets} are one folder or one holds the other (through a link): give separate folders`], 'output');
  const folders = [{ dir: dirs.secrets, role: 'secrets' as const }, { dir: dirs.out, role: 'output' as const }];
  return withFolderLocks(folders, io.err, () => generateLocked(inv, io, model, warnings, started, dirs));
}

/** Real paths of the two folders gen writes. */
interface Folders {
  out: string;
  secrets: string;
}

async function generateLocked(inv: Invocation, io: Console, model: ClusterModel, warnings: Problem[], started: number, dirs: Folders): Promise<number> {
  // Stage both folders completely before touching either, so a failure leaves both as they were.
  const stage = openOutputStage(dirs.out);
  let helper: ReturnType<typeof preparePackWorker> = null;
  let output: ReturnType<typeof stage.finish>;
  let secrets: ReturnType<typeof stageSecrets> | null;
  let gen: Awaited<ReturnType<typeof generateInMemory>>;
  try {
    helper = preparePackWorker(model.hosts.length);
    gen = await generateInMemory(model, dirs.secrets, io, stage.write, helper);
    output = stage.finish();
    secrets = gen.secretChanges.length ? stageSecrets(dirs.secrets, gen.secrets, gen.stored) : null;
  } catch (error) {
    stage.abort();
    throw error;
  } finally {
    // Every path ends the worker thread: a live one would keep the process from exiting.
    await helper?.worker.terminate();
  }
  secrets?.commit();
  output.commit();
  if (inv.json) {
    printJson(io, {
      ok: true,
      out: inv.out,
      secrets: inv.secrets,
      secretsChanged: gen.secretChanges,
      files: gen.fileCount,
      hosts: model.hosts.map((h) => ({ name: h.name, roles: h.roles, tarball: `${inv.out}/${h.name}.tar.gz`, step: h.step + 1 })),
      order: model.runOrder,
      ansible: { inventory: `${inv.out}/${ANSIBLE_DIR}/inventory.ini`, playbook: `${inv.out}/${ANSIBLE_DIR}/site.yml` },
      warnings,
    });
    return 0;
  }
  const expiring = expiringCertificates(gen.secrets.files, new Date(), EXPIRY_WARNING_DAYS);
  if (expiring.length) {
    io.err(`warning: ${expiring.length} certificate(s) expire within ${EXPIRY_WARNING_DAYS} days (first: ${expiring[0]!.path} on ${expiring[0]!.notAfter.toISOString().slice(0, 10)}): ` +
      `run gen certs renew --secrets ${inv.secrets}, then gen again and run the changed bundles\n`);
  }
  if (inv.quiet) return 0;
  for (const change of gen.secretChanges) io.out(`secrets: ${change}\n`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  io.out([
    `wrote ${model.hosts.length} bundles (${gen.fileCount} files) to ${inv.out}/ in ${seconds}s, with ${inv.out}/SHA256SUMS`,
    'Copy each tarball to its host and run it there as root, in this order:',
    ...model.runOrder.map((s, i) => `  ${i + 1}. ${s.title}: ${s.hosts.join(', ')}`),
    '     tar -xzf HOST.tar.gz && sudo HOST/run.sh      (add --dry-run to see every action first)',
    `Or let Ansible do it in that order: ansible-playbook -i ${inv.out}/${ANSIBLE_DIR}/inventory.ini ${inv.out}/${ANSIBLE_DIR}/site.yml   (--check: dry run)`,
    `Back up ${inv.secrets}/: it holds the cluster's CAs and keys; kubeha reuses it on every run.`,
    '',
  ].join('\n'));
  return 0;
}

/** gen diff INVENTORY: what a new generation would change in the output folder; writes nothing. */
export async function runDiff(inv: Invocation, io: Console): Promise<number> {
  const { model, warnings } = readInventory(inv.inventory!);
  const change = checkVersionChange(inv.inventory!, inv.out, model);
  if (!inv.json) printWarnings(io, inv.inventory!, warnings);
  const gen = await generateInMemory(model, realFolder(inv.secrets, 'secrets'), io);
  const existing = readExistingBundles(realFolder(inv.out, 'output'));
  const changes = diffBundles(existing.bundles, gen.bundles, redactionsOf(gen.secrets));
  const rollout = rolloutChange(inv.out, existing.others, gen.rollout);
  if (inv.json) {
    printJson(io, { secretsToMake: gen.secretChanges, versionChange: change, hosts: changes, rollout });
    return 0;
  }
  if (existing.bundles.size === 0) io.out(`${inv.out}/ holds no bundles yet: everything below would be added\n`);
  for (const line of describeUpgrade(model, change).slice(1)) io.out(line + '\n');
  if (gen.secretChanges.length) io.out(`secrets that gen would make or re-issue: ${gen.secretChanges.map((c) => c.replace(/^\S+ /, '')).join(', ')}\n`);
  io.out([...formatHostChange(rollout), formatDiff(changes)].join('\n'));
  return 0;
}

/** The change of the Ansible files as one block named after their folder (`out/ansible`). */
function rolloutChange(out: string, stored: ReadonlyMap<string, Buffer>, next: readonly RolloutFile[]): HostChange {
  const before = [...stored].map(([path, bytes]) => ({ path, mode: 0o644, bytes }));
  const files = diffFiles(before, next, []);
  const change = before.length === 0 ? 'added' : files.length ? 'changed' : 'unchanged';
  return { host: `${out}/${ANSIBLE_DIR}`, change, files };
}

/** gen check INVENTORY: exit 1 unless the output folder is exactly what a generation would write. */
export async function runCheck(inv: Invocation, io: Console): Promise<number> {
  const { model } = readInventory(inv.inventory!);
  checkVersionChange(inv.inventory!, realFolder(inv.out, 'output'), model);
  const gen = await generateInMemory(model, realFolder(inv.secrets, 'secrets'), io);
  const existing = readExistingBundles(realFolder(inv.out, 'output'));
  const changes = diffBundles(existing.bundles, gen.bundles, redactionsOf(gen.secrets));
  const stored = (name: string) => existing.tarballs.get(name) ?? existing.others.get(name);
  const stale = gen.outputs.filter((o) => o.name !== 'SHA256SUMS' && !stored(o.name)?.equals(o.bytes)).map((o) => o.name);
  const extra = [...existing.tarballs.keys(), ...existing.others.keys()].filter((n) => !gen.outputs.some((o) => o.name === n));
  const ok = gen.secretChanges.length === 0 && stale.length === 0 && extra.length === 0;
  if (inv.json) {
    printJson(io, { ok, secretsToMake: gen.secretChanges, stale, extra, hosts: changes.filter((c) => c.change !== 'unchanged') });
    return ok ? 0 : 1;
  }
  if (ok) {
    if (!inv.quiet) io.out(`${inv.out}/ is up to date with ${inv.inventory} (${model.hosts.length} bundles)\n`);
    return 0;
  }
  const lines = [`${inv.out}/ is not what ${inv.inventory} produces:`];
  if (gen.secretChanges.length) lines.push(`  the secrets folder ${inv.secrets}/ lacks ${gen.secretChanges.length} files (${gen.secretChanges.map((c) => c.replace(/^\S+ /, '')).join(', ')})`);
  for (const name of stale) lines.push(`  ${name}: ${stored(name) ? 'differs' : 'missing'}`);
  for (const name of extra) lines.push(`  ${name}: not produced by the inventory`);
  lines.push(`Run: gen ${inv.inventory} --out ${inv.out} --secrets ${inv.secrets}   (gen diff shows the changes first)`);
  io.err(lines.join('\n') + '\n');
  return 1;
}
