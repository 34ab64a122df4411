/** gen diff and gen check: what gen would write, computed in memory and compared with the output folder; nothing is written. */
import type { TarEntry } from '../bundle/untar.js';
import { visibleName } from '../common/visible.js';
import { compile, type CompiledCluster, type RolloutFile } from '../index.js';
import type { ClusterModel } from '../model/types.js';
import { describeUpgrade } from '../model/upgrade.js';
import { describeSecretChange } from '../pki/ensure.js';
import { ANSIBLE_DIR, PICTURE_FILE, tarballName } from '../common/output-layout.js';
import { describePictureChange } from '../review/picture-diff.js';
import { diffBundles, diffFiles, formatDiff, formatHostChange, type HostChange, type Redaction } from '../review/diff.js';
import type { Invocation } from './args.js';
import { printJson, type Console } from './console.js';
import { realFolder } from './folders.js';
import { readSteady } from './lock.js';
import type { Machine } from './machine.js';
import { packInMemory, type PackedInMemory } from './pack.js';
import { ensureStoredSecrets, readCheckedInventory, redactionsOf, type EnsuredSecrets } from './pipeline.js';
import { bundleHost, readPreviousOutput, type PreviousFile, type PreviousOutput } from './previous-output.js';
import { readTemplates } from './template-folder.js';

/** What gen would write, in memory: the secrets (made, not saved), the compiled cluster, its packed files (not written). */
interface Generation {
  secrets: EnsuredSecrets;
  compiled: CompiledCluster;
  packed: PackedInMemory;
}

/** ensure secrets → compile → pack, the steps of gen, in memory. */
async function generateInMemory(model: ClusterModel, invocation: Invocation, machine: Machine, io: Console): Promise<Generation> {
  const secrets = await ensureStoredSecrets(model, realFolder(invocation.secrets, 'secrets'), machine, io);
  const compiled = compile(model, { secrets: secrets.secrets, templates: readTemplates() });
  return { secrets, compiled, packed: await packInMemory(compiled, io) };
}

/** gen diff INVENTORY: what a new generation would change in the output folder. */
export async function runDiff(invocation: Invocation, machine: Machine, io: Console): Promise<number> {
  const { out } = invocation;
  const { model, versionChange } = readCheckedInventory(invocation, io, machine, realFolder(out, 'output'), invocation.json);
  const gen = await generateInMemory(model, invocation, machine, io);
  const previous = readPrevious(invocation, machine, gen);
  const changes = hostChanges(previous, gen, redactionsOf(gen.secrets.secrets));
  const rollout = besideChange(`${out}/${ANSIBLE_DIR}`, previous.files, gen.compiled.rollout());
  const picture = pictureChange(out, previous.files, gen.compiled.picture());
  if (invocation.json) {
    printJson(io, { secretsToMake: gen.secrets.changes.map(describeSecretChange), versionChange, hosts: changes, rollout, picture });
    return 0;
  }
  if (previous.bundles.size === 0) io.out(`${out}/ holds no bundles yet: everything below would be added\n`);
  for (const line of describeUpgrade(model, versionChange).slice(1)) io.out(line + '\n');
  if (gen.secrets.changes.length) io.out(`secrets that gen would make or re-issue: ${gen.secrets.changes.map((c) => c.path).join(', ')}\n`);
  io.out([...formatHostChange(rollout), ...formatHostChange(picture), formatDiff(changes)].join('\n'));
  return 0;
}

/** What the output folder holds of what a generation writes or removes: bundles, the rollout files and SHA256SUMS. */
function readPrevious(invocation: Invocation, machine: Machine, gen: Generation): PreviousOutput {
  const files = gen.packed.files.filter((f) => bundleHost(f.name) === null).map((f) => f.name);
  const out = realFolder(invocation.out, 'output');
  return readSteady(out, 'output', machine, () => readPreviousOutput(out, [...gen.packed.bundles.keys()], files));
}

/** Each host's change; a previous bundle that cannot be read is a change with the reason as its note. */
function hostChanges(previous: PreviousOutput, gen: Generation, redactions: Redaction[]): HostChange[] {
  const readable = new Map<string, TarEntry[]>();
  for (const [host, bundle] of previous.bundles) if ('entries' in bundle) readable.set(host, bundle.entries);
  return diffBundles(readable, gen.packed.bundles, redactions).map((change) => {
    const bundle = previous.bundles.get(change.host);
    if (!bundle || !('problem' in bundle)) return change;
    return { ...change, change: 'changed', note: `the previous ${tarballName(change.host)} cannot be reviewed: ${bundle.problem}` };
  });
}

/** The change of files beside the bundles as one block named `label`: the Ansible files (`out/ansible`), the picture. */
function besideChange(label: string, stored: ReadonlyMap<string, PreviousFile>, next: readonly RolloutFile[]): HostChange {
  const before = next.flatMap((f) => {
    const old = stored.get(f.path);
    return old && 'bytes' in old ? [{ path: f.path, mode: f.mode, bytes: old.bytes }] : [];
  });
  const problems = next.flatMap((f) => {
    const old = stored.get(f.path);
    return old && 'problem' in old ? [`${f.path} cannot be reviewed: ${old.problem}`] : [];
  });
  const files = diffFiles(before, next, []);
  const change = before.length === 0 && problems.length === 0 ? 'added' : files.length || problems.length ? 'changed' : 'unchanged';
  return { host: label, change, files, ...(problems.length ? { note: problems.join('; ') } : {}) };
}

/** The change of the picture (`out/cluster.svg`), its content told by the texts it draws rather than as a diff of coordinates. */
function pictureChange(out: string, stored: ReadonlyMap<string, PreviousFile>, next: RolloutFile): HostChange {
  const change = besideChange(`${out}/${PICTURE_FILE}`, stored, [next]);
  const old = stored.get(next.path);
  if (!old || !('bytes' in old) || old.bytes.equals(next.bytes)) return change;
  const files = change.files.map((f) => {
    const modeNote = f.detail.split('\n').filter((l) => l.startsWith('mode '));
    return { ...f, detail: [...modeNote, describePictureChange(old.bytes.toString('utf8'), next.bytes.toString('utf8'))].join('\n') };
  });
  return { ...change, files };
}

/** gen check INVENTORY: exit 1 unless the output folder is exactly what a generation would write. */
export async function runCheck(invocation: Invocation, machine: Machine, io: Console): Promise<number> {
  const { model } = readCheckedInventory(invocation, io, machine, realFolder(invocation.out, 'output'), true);
  const gen = await generateInMemory(model, invocation, machine, io);
  const previous = readPrevious(invocation, machine, gen);
  const stale = gen.packed.files.flatMap((o) => {
    const state = storedState(previous, o.name, o.bytes);
    return state ? [{ name: o.name, state }] : [];
  });
  const extra = [...previous.bundles.keys()].filter((host) => !gen.packed.bundles.has(host)).map(tarballName);
  const ok = gen.secrets.changes.length === 0 && stale.length === 0 && extra.length === 0;
  if (invocation.json) {
    const changes = hostChanges(previous, gen, redactionsOf(gen.secrets.secrets));
    printJson(io, {
      ok,
      secretsToMake: gen.secrets.changes.map(describeSecretChange),
      stale: stale.map((s) => s.name),
      extra,
      hosts: changes.filter((c) => c.change !== 'unchanged'),
    });
  } else if (ok) {
    if (!invocation.quiet) io.out(`${invocation.out}/ is up to date with ${invocation.inventory} (${model.hosts.length} bundles)\n`);
  } else {
    io.err(
      describeStale(
        invocation,
        gen,
        stale.map((s) => `  ${visibleName(s.name)}: ${s.state}`),
        extra,
      ),
    );
  }
  return ok ? 0 : 1;
}

/** How a stored file differs from what gen writes (missing, differs, cannot be read: why), or null when it is the same. */
function storedState(previous: PreviousOutput, name: string, bytes: Buffer): string | null {
  const host = bundleHost(name);
  const stored = host !== null ? previous.bundles.get(host) : previous.files.get(name);
  if (!stored) return 'missing';
  const have = 'bytes' in stored ? stored.bytes : null;
  if (!have) return `cannot be read: ${(stored as { problem: string }).problem}`;
  return have.equals(bytes) ? null : 'differs';
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
