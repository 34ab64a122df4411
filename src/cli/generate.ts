/** gen INVENTORY: the main path, written as its steps. */
import { compile } from '../index.js';
import type { Problem } from '../inventory/index.js';
import type { ClusterModel } from '../model/types.js';
import { describeSecretChange } from '../pki/ensure.js';
import { expiringCertificates } from '../pki/inspect.js';
import { ANSIBLE_DIR, PICTURE_FILE, SUMS_FILE, tarballName } from '../common/output-layout.js';
import type { Invocation } from './args.js';
import { WriteError, writeFailure, type Staged } from './atomic.js';
import { EXPIRY_WARNING_DAYS } from './certs.js';
import { printJson, type Console } from './console.js';
import { realFolder } from './folders.js';
import { refuseMountPoint } from './mount-points.js';
import { errnoWords } from './hostile-files.js';
import { withFolderLocks } from './lock.js';
import type { Machine } from './machine.js';
import { stageOutput } from './output.js';
import { openPacker, type PackedOutput } from './pack.js';
import { printWarnings, readInventory } from './inventory-file.js';
import { ensureStoredSecrets, type EnsuredSecrets } from './pipeline.js';
import { checkVersionChange, previousOutputWarnings } from './previous.js';
import { stageSecrets } from './secrets-store.js';
import { readTemplates } from './template-folder.js';

/** gen INVENTORY: read inventory → lock folders → check the version change → ensure secrets → compile → pack → swap in → report. */
export async function runGenerate(invocation: Invocation, machine: Machine, io: Console): Promise<number> {
  const started = performance.now();
  const folders = foldersToWrite(invocation);
  const { model, warnings } = readInventory(invocation.inventory!, machine.now);
  const locks = [
    { dir: folders.secrets, role: 'secrets' as const },
    { dir: folders.out, role: 'output' as const },
  ];
  const made = await withFolderLocks(locks, machine, io.err, async () => {
    // Under the lock: no other gen swaps the output between this read of its version and this run's swap.
    checkVersionChange(invocation.inventory!, folders.out, model, invocation.forceVersionChange, io.err);
    warnings.push(...previousOutputWarnings(folders.out, model));
    if (!invocation.json) printWarnings(io, invocation.inventory!, warnings);
    const packer = openPacker(model.hosts.length); // a helper thread, if any, loads while the secrets are checked
    try {
      const secrets = await ensureStoredSecrets(model, folders.secrets, machine, io);
      if (secrets.changes.length) refuseMountPoint(folders.secrets, 'secrets');
      const compiled = compile(model, { secrets: secrets.secrets, templates: readTemplates() });
      const output = await stageOutput(folders.out, (sink) => packer.pack(compiled, sink, io));
      swapIn(output.staged, folders, secrets);
      return { secrets, packed: output.result };
    } finally {
      await packer.close();
    }
  });
  const seconds = (performance.now() - started) / 1000;
  reportGeneration(invocation, io, { model, warnings, now: machine.now, seconds, ...made });
  return 0;
}

/** Real paths of the two folders gen writes. */
interface Folders {
  out: string;
  secrets: string;
}

/**
 * The folders gen writes, links followed (that they are apart, links followed, was checked with the command line);
 * an output folder that is (or holds) a mount point is refused here, before anything is written.
 */
function foldersToWrite(invocation: Invocation): Folders {
  const folders = { out: realFolder(invocation.out, 'output'), secrets: realFolder(invocation.secrets, 'secrets') };
  refuseMountPoint(folders.out, 'output');
  return folders;
}

/**
 * Stages the changed secrets beside the staged output, then swaps in the secrets and then the output. A failure up
 * to the secrets' swap leaves both folders as they were (no staged copy of a key is left); a failure of the output's
 * swap after it says that the secrets were updated and the output was not.
 */
function swapIn(output: Staged, folders: Folders, secrets: EnsuredSecrets): void {
  let staged: Staged | null = null;
  try {
    staged = secrets.changes.length ? stageSecrets(folders.secrets, secrets.secrets, secrets.stored) : null;
    staged?.commit();
  } catch (error) {
    staged?.abort();
    output.abort();
    throw writeFailure(error, folders.secrets, 'secrets', 'write the new secrets');
  }
  try {
    output.commit();
  } catch (error) {
    output.abort();
    if (!staged) throw writeFailure(error, folders.out, 'output', 'swap in the new output');
    const made = secrets.changes.map((c) => c.path).join(', ');
    throw new WriteError(
      'output',
      `${folders.out}: cannot swap in the new output: ${errnoWords(error)}. The secrets folder ${folders.secrets} WAS updated (${made}); ` +
        `the output folder is as it was: remove the cause and run gen again (it reuses those secrets)`,
      false,
    );
  }
}

/** What a finished gen reports. */
interface Generated {
  model: ClusterModel;
  warnings: Problem[];
  now: Date;
  seconds: number;
  secrets: EnsuredSecrets;
  packed: PackedOutput;
}

/** Prints the JSON document, or the expiry warning and (unless --quiet) the summary with the order to run the bundles in. */
function reportGeneration(invocation: Invocation, io: Console, gen: Generated): void {
  const { out, secrets } = invocation;
  if (invocation.json) {
    printJson(io, {
      ok: true,
      out,
      secrets,
      secretsChanged: gen.secrets.changes.map(describeSecretChange),
      files: gen.packed.bundleFileCount,
      hosts: gen.model.hosts.map((h) => ({ name: h.name, roles: h.roles, tarball: `${out}/${tarballName(h.name)}`, step: h.step + 1 })),
      order: gen.model.runOrder,
      ansible: { inventory: `${out}/${ANSIBLE_DIR}/inventory.ini`, playbook: `${out}/${ANSIBLE_DIR}/site.yml` },
      picture: `${out}/${PICTURE_FILE}`,
      warnings: gen.warnings,
    });
    return;
  }
  warnExpiring(invocation, io, gen);
  if (invocation.quiet) return;
  for (const change of gen.secrets.changes) io.out(`secrets: ${describeSecretChange(change)}\n`);
  io.out(
    [
      `wrote ${gen.model.hosts.length} bundles (${gen.packed.bundleFileCount} files) to ${out}/ in ${gen.seconds.toFixed(1)}s, with ${out}/${SUMS_FILE}`,
      'Copy each tarball to its host and run it there as root, in this order:',
      ...gen.model.runOrder.map((s, i) => `  ${i + 1}. ${s.title}: ${s.hosts.join(', ')}`),
      '     tar -xzf HOST.tar.gz && sudo HOST/run.sh      (add --dry-run to see every action first)',
      `Or let Ansible do it in that order: ansible-playbook -i ${out}/${ANSIBLE_DIR}/inventory.ini ${out}/${ANSIBLE_DIR}/site.yml   (--check: dry run)`,
      `The picture of the cluster: ${out}/${PICTURE_FILE}`,
      `Back up ${secrets}/: it holds the cluster's CAs and keys; kubeha reuses it on every run.`,
      '',
    ].join('\n'),
  );
}

/** Warns (on stderr) when certificates expire within EXPIRY_WARNING_DAYS of the command's `now`. */
function warnExpiring(invocation: Invocation, io: Console, gen: Generated): void {
  const expiring = expiringCertificates(gen.secrets.secrets.files, gen.now, EXPIRY_WARNING_DAYS);
  if (!expiring.length) return;
  io.err(
    `warning: ${expiring.length} certificate(s) expire within ${EXPIRY_WARNING_DAYS} days (first: ${expiring[0]!.path} on ${expiring[0]!.notAfter.toISOString().slice(0, 10)}): ` +
      `run gen certs renew --secrets ${invocation.secrets}, then gen again and run the changed bundles\n`,
  );
}
