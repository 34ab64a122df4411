/** gen, gen diff and gen check: generate in memory, then write, compare or report. */
import { expiringCertificates } from '../pki/inspect.js';
import { diffBundles, formatDiff } from '../review/diff.js';
import { EXPIRY_WARNING_DAYS } from './certs.js';
import type { Invocation } from './args.js';
import { printJson, type Console } from './console.js';
import { openOutputStage } from './output.js';
import { lockSecrets } from './atomic.js';
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
  const unlock = lockSecrets(inv.secrets);
  try {
    return await generateLocked(inv, io, model, warnings, started);
  } finally {
    unlock();
  }
}

async function generateLocked(inv: Invocation, io: Console, model: ClusterModel, warnings: Problem[], started: number): Promise<number> {
  // Stage both folders completely before touching either, so a failure leaves both as they were.
  const helper = preparePackWorker(model.hosts.length);
  const stage = openOutputStage(inv.out);
  let output;
  let secrets;
  let gen;
  try {
    gen = await generateInMemory(model, inv.secrets, io, stage.write, helper);
    output = stage.finish();
    secrets = gen.secretChanges.length ? stageSecrets(inv.secrets, gen.secrets) : null;
  } catch (error) {
    stage.abort();
    await helper?.worker.terminate();
    throw error;
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
  const gen = await generateInMemory(model, inv.secrets, io);
  const existing = readExistingBundles(inv.out);
  const changes = diffBundles(existing.bundles, gen.bundles, redactionsOf(gen.secrets));
  if (inv.json) {
    printJson(io, { secretsToMake: gen.secretChanges, versionChange: change, hosts: changes });
    return 0;
  }
  if (existing.bundles.size === 0) io.out(`${inv.out}/ holds no bundles yet: everything below would be added\n`);
  for (const line of describeUpgrade(model, change).slice(1)) io.out(line + '\n');
  if (gen.secretChanges.length) io.out(`secrets that gen would make or re-issue: ${gen.secretChanges.map((c) => c.replace(/^\S+ /, '')).join(', ')}\n`);
  io.out(formatDiff(changes));
  return 0;
}

/** gen check INVENTORY: exit 1 unless the output folder is exactly what a generation would write. */
export async function runCheck(inv: Invocation, io: Console): Promise<number> {
  const { model } = readInventory(inv.inventory!);
  checkVersionChange(inv.inventory!, inv.out, model);
  const gen = await generateInMemory(model, inv.secrets, io);
  const existing = readExistingBundles(inv.out);
  const changes = diffBundles(existing.bundles, gen.bundles, redactionsOf(gen.secrets));
  const stale = gen.outputs.filter((o) => o.name !== 'SHA256SUMS' && !existing.tarballs.get(o.name)?.equals(o.bytes)).map((o) => o.name);
  const extra = [...existing.tarballs.keys()].filter((n) => !gen.outputs.some((o) => o.name === n));
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
  for (const name of stale) lines.push(`  ${name}: ${existing.tarballs.has(name) ? 'differs' : 'missing'}`);
  for (const name of extra) lines.push(`  ${name}: not produced by the inventory`);
  lines.push(`Run: gen ${inv.inventory} --out ${inv.out} --secrets ${inv.secrets}   (gen diff shows the changes first)`);
  io.err(lines.join('\n') + '\n');
  return 1;
}
