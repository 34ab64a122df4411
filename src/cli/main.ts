/** gen: argv, file reads, the real clock and keys, and the one catch that decides the exit status. */
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import { compile } from '../index.js';
import { validateInventory, formatProblem, InventoryError } from '../inventory/index.js';
import { buildModel } from '../model/model.js';
import { describePlan } from '../model/plan.js';
import type { ClusterModel } from '../model/types.js';
import { ensureSecrets, SecretsError } from '../pki/issue.js';
import { buildTarball } from '../bundle/tar.js';
import { sha256sums } from '../bundle/manifest.js';
import { parseCommandLine, UsageError, USAGE, type Invocation } from './args.js';
import { listCertificates } from './certs.js';
import { writeOutput, type OutputFile } from './output.js';
import { loadSecrets, saveSecrets } from './secrets-store.js';
import { readTemplates } from './templates.js';

/** Where messages go; tests pass their own. */
export interface Console {
  out: (text: string) => void;
  err: (text: string) => void;
}

const stdConsole: Console = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** Reads and validates an inventory file; prints warnings; throws InventoryError with every problem. */
export function readInventory(path: string, io: Console): ClusterModel {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InventoryError(path, [{ pointer: '', severity: 'error', message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }]);
  }
  const result = validateInventory(path, text);
  for (const w of result.warnings) io.err(formatProblem(path, w) + '\n');
  if (!result.inventory) throw new InventoryError(path, result.errors);
  return buildModel(result.inventory);
}

/** Runs one command; returns the exit status. */
export async function main(argv: readonly string[], io: Console = stdConsole): Promise<number> {
  let invocation: Invocation | undefined;
  try {
    invocation = parseCommandLine(argv);
    if (invocation.help) {
      io.out(USAGE[invocation.command]);
      return 0;
    }
    return await run(invocation, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`gen: ${error.message}\n\n${error.usage}`);
      return 2;
    }
    if (error instanceof InventoryError) {
      io.err(error.message + '\n');
      return 1;
    }
    if (error instanceof SecretsError) {
      io.err(error.problems.map((p) => `secrets: ${p}`).join('\n') + '\nNothing was written.\n');
      return 1;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code) && (error as NodeJS.ErrnoException).path) {
      io.err(`gen: ${(error as Error).message}\nNothing was changed: the previous output and secrets are as they were.\n`);
      return 1;
    }
    io.err(`gen: internal error (a bug in kubeha; please report it):\n${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

async function run(inv: Invocation, io: Console): Promise<number> {
  switch (inv.command) {
    case 'validate': {
      const model = readInventory(inv.inventory!, io);
      if (!inv.quiet) io.out(`${inv.inventory}: valid (${model.hosts.length} hosts)\n`);
      return 0;
    }
    case 'plan':
      io.out(describePlan(readInventory(inv.inventory!, io)));
      return 0;
    case 'certs':
      return listCertificates(inv.secrets, new Date(), io);
    case 'gen':
      return generate(inv, io);
  }
}

async function generate(inv: Invocation, io: Console): Promise<number> {
  const model = readInventory(inv.inventory!, io);
  const templates = readTemplates();
  const stored = loadSecrets(inv.secrets);
  const { secrets, changes } = await ensureSecrets(model, stored, { now: new Date(), crypto: webcrypto as unknown as Crypto });
  const bundles = compile(model, { secrets, templates });
  const outputs: OutputFile[] = [];
  for (const [host, files] of bundles) {
    outputs.push({ name: `${host}.tar.gz`, bytes: await buildTarball(host, files), mode: 0o600 });
  }
  outputs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  outputs.push({ name: 'SHA256SUMS', bytes: Buffer.from(sha256sums(outputs.map((o) => ({ path: o.name, bytes: o.bytes })))), mode: 0o644 });
  if (changes.length) saveSecrets(inv.secrets, secrets);
  writeOutput(inv.out, outputs);
  if (!inv.quiet) {
    for (const change of changes) io.out(`secrets: ${change}\n`);
    io.out(`wrote ${bundles.size} bundles to ${inv.out}/ (${[...bundles.keys()].map((h) => `${h}.tar.gz`).join(', ')}) and ${inv.out}/SHA256SUMS\n`);
    io.out(`Run them in this order:\n${model.runOrder.map((s, i) => `  ${i + 1}. ${s.title}: ${s.hosts.join(', ')}\n`).join('')}`);
    io.out(`Back up ${inv.secrets}/: it holds the cluster's CAs; kubeha reuses it on every run.\n`);
  }
  return 0;
}
