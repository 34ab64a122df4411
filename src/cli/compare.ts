/** gen diff and gen check: what gen would write, computed in memory and compared with the output folder; nothing is written. */
import { compile, type CompiledCluster, type RolloutFile } from '../index.js';
import type { ClusterModel } from '../model/types.js';
import { describeUpgrade } from '../model/upgrade.js';
import { describeSecretChange } from '../pki/ensure.js';
import { ANSIBLE_DIR } from '../render/ansible.js';
import { diffBundles, diffFiles, formatDiff, formatHostChange, type HostChange } from '../review/diff.js';
import type { Invocation } from './args.js';
import { printJson, type Console } from './console.js';
import { realFolder } from './folders.js';
import { packInMemory, type PackedInMemory } from './pack.js';
import { ensureStoredSecrets, readCheckedInventory, readExistingBundles, redactionsOf, type EnsuredSecrets } from './pipeline.js';
import { readTemplates } from './template-folder.js';

/** What gen would write, in memory: the secrets (made, not saved), the compiled cluster, its packed files (not written). */
interface Generation {
  secrets: EnsuredSecrets;
  compiled: CompiledCluster;
  packed: PackedInMemory;
}

/** ensure secrets → compile → pack, the steps of gen, in memory. */
async function generateInMemory(model: ClusterModel, invocation: Invocation, now: Date, io: Console): Promise<Generation> {
  const secrets = await ensureStoredSecrets(model, realFolder(invocation.secrets, 'secrets'), now, io);
  const compiled = compile(model, { secrets: secrets.secrets, templates: readTemplates() });
  return { secrets, compiled, packed: await packInMemory(compiled, io) };
}

/** gen diff INVENTORY: what a new generation would change in the output folder. */
export async function runDiff(invocation: Invocation, now: Date, io: Console): Promise<number> {
  const { out } = invocation;
  const { model, versionChange } = readCheckedInventory(invocation, io, out, invocation.json);
  const gen = await generateInMemory(model, invocation, now, io);
  const existing = readExistingBundles(realFolder(out, 'output'));
  const changes = diffBundles(existing.bundles, gen.packed.bundles, redactionsOf(gen.secrets.secrets));
  const rollout = rolloutChange(out, existing.others, gen.compiled.rollout());
  if (invocation.json) {
    printJson(io, { secretsToMake: gen.secrets.changes.map(describeSecretChange), versionChange, hosts: changes, rollout });
    return 0;
  }
  if (existing.bundles.size === 0) io.out(`${out}/ holds no bundles yet: everything below would be added\n`);
  for (const line of describeUpgrade(model, versionChange).slice(1)) io.out(line + '\n');
  if (gen.secrets.changes.length) io.out(`secrets that gen would make or re-issue: ${gen.secrets.changes.map((c) => c.path).join(', ')}\n`);
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
export async function runCheck(invocation: Invocation, now: Date, io: Console): Promise<number> {
  const { model } = readCheckedInventory(invocation, io, invocation.out, true);
  const gen = await generateInMemory(model, invocation, now, io);
  const existing = readExistingBundles(realFolder(invocation.out, 'output'));
  const stored = (name: string) => existing.tarballs.get(name) ?? existing.others.get(name);
  const made = gen.packed.files;
  const stale = made.filter((o) => o.name !== 'SHA256SUMS' && !stored(o.name)?.equals(o.bytes)).map((o) => o.name);
  const extra = [...existing.tarballs.keys(), ...existing.others.keys()].filter((n) => !made.some((o) => o.name === n));
  const ok = gen.secrets.changes.length === 0 && stale.length === 0 && extra.length === 0;
  if (invocation.json) {
    const changes = diffBundles(existing.bundles, gen.packed.bundles, redactionsOf(gen.secrets.secrets));
    printJson(io, { ok, secretsToMake: gen.secrets.changes.map(describeSecretChange), stale, extra, hosts: changes.filter((c) => c.change !== 'unchanged') });
  } else if (ok) {
    if (!invocation.quiet) io.out(`${invocation.out}/ is up to date with ${invocation.inventory} (${model.hosts.length} bundles)\n`);
  } else {
    io.err(
      describeStale(
        invocation,
        gen,
        stale.map((name) => `  ${name}: ${stored(name) ? 'differs' : 'missing'}`),
        extra,
      ),
    );
  }
  return ok ? 0 : 1;
}

/** Why the output folder is not what gen would write, and the command that fixes it. */
function describeStale(invocation: Invocation, gen: Generation, stale: string[], extra: string[]): string {
  const { changes } = gen.secrets;
  const lines = [`${invocation.out}/ is not what ${invocation.inventory} produces:`];
  if (changes.length) lines.push(`  the secrets folder ${invocation.secrets}/ lacks ${changes.length} files (${changes.map((c) => c.path).join(', ')})`);
  lines.push(...stale, ...extra.map((name) => `  ${name}: not produced by the inventory`));
  lines.push(`Run: gen ${invocation.inventory} --out ${invocation.out} --secrets ${invocation.secrets}   (gen diff shows the changes first)`);
  return lines.join('\n') + '\n';
}
