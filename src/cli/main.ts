/** gen: argv in, exit status out. The one catch that turns errors into messages and exit codes. */
import { InventoryError, formatProblem } from '../inventory/index.js';
import { describePlan, planJson } from '../model/plan.js';
import { describeUpgrade } from '../model/upgrade.js';
import { checkVersionChange, previousOutputWarnings } from './previous.js';
import { SecretsError } from '../pki/errors.js';
import { FolderError } from './folder-error.js';
import { parseCommandLine, UsageError, USAGE, type Invocation } from './args.js';
import { printJson, stdConsole, type Console } from './console.js';
import { printWarnings, readInventory } from './inventory-file.js';
import { errnoWords, isErrno, ReadRefused } from './hostile-files.js';
import { WriteError } from './atomic.js';
import { readSteady } from './lock.js';
import { realMachine, type Machine } from './machine.js';
import { realFolder } from './folders.js';

export type { Console } from './console.js';

/**
 * Runs one command; returns the exit status (0 ok, 1 invalid input or failed check, 2 usage). `machine` is the clock,
 * crypto and process table the command uses (a test passes its own); by default the real one, its clock read here once.
 */
export async function main(argv: readonly string[], io: Console = stdConsole, machine?: Machine): Promise<number> {
  let invocation: Invocation | undefined;
  try {
    invocation = parseCommandLine(argv);
    if (invocation.help) {
      io.out(USAGE[invocation.command]);
      return 0;
    }
    return await run(invocation, io, machine ?? realMachine(new Date()));
  } catch (error) {
    return report(error, invocation, io);
  }
}

/** Runs a parsed command; every part of it uses the machine's `now`, crypto and process check. */
async function run(invocation: Invocation, io: Console, machine: Machine): Promise<number> {
  switch (invocation.command) {
    case 'validate':
      return validate(invocation, io, machine);
    case 'plan':
      return await plan(invocation, io, machine);
    case 'artifacts':
      return listMirror(invocation, io, machine);
    // Loaded on demand: x509 and archiver cost start-up time that validate and plan do not need.
    case 'gen':
      return (await import('./generate.js')).runGenerate(invocation, machine, io);
    case 'diff':
      return (await import('./compare.js')).runDiff(invocation, machine, io);
    case 'check':
      return (await import('./compare.js')).runCheck(invocation, machine, io);
    case 'certs':
      return (await import('./certs.js')).listCertificates(invocation, machine, io);
    case 'renew':
      return (await import('./certs.js')).renewCertificates(invocation, machine, io);
  }
}

/** gen validate: the inventory's problems and warnings only. */
function validate(invocation: Invocation, io: Console, machine: Machine): number {
  const file = invocation.inventory!;
  const { model, warnings } = readInventory(file, machine.now);
  if (invocation.json) printJson(io, { ok: true, file, hosts: model.hosts.length, warnings: warnings.map((w) => ({ ...w, text: formatProblem(file, w) })) });
  else {
    printWarnings(io, file, warnings);
    if (!invocation.quiet) io.out(`${file}: valid (${model.hosts.length} hosts)\n`);
  }
  return 0;
}

/** gen plan: hosts, roles, services and the order to run the bundles in (with the upgrade order against --out), or the picture. */
async function plan(invocation: Invocation, io: Console, machine: Machine): Promise<number> {
  const { model, warnings } = readInventory(invocation.inventory!, machine.now);
  const out = realFolder(invocation.out, 'output');
  const change = readSteady(out, 'output', machine, () => {
    warnings.push(...previousOutputWarnings(out, model));
    return checkVersionChange(invocation.inventory!, out, model, invocation.forceVersionChange, io.err);
  });
  printWarnings(io, invocation.inventory!, warnings);
  if (invocation.json) printJson(io, { ...planJson(model), versionChange: change });
  else if (invocation.format === 'text') io.out(describePlan(model, describeUpgrade(model, change)));
  else {
    const { clusterMermaid, clusterSvg } = await import('../render/picture/index.js');
    io.out(invocation.format === 'svg' ? clusterSvg(model) : clusterMermaid(model));
  }
  return 0;
}

/** gen artifacts: everything the cluster downloads, to fill a mirror. */
async function listMirror(invocation: Invocation, io: Console, machine: Machine): Promise<number> {
  const { model, warnings } = readInventory(invocation.inventory!, machine.now);
  printWarnings(io, invocation.inventory!, warnings);
  const { mirrorList, describeMirrorList } = await import('../render/mirror-list.js');
  const list = mirrorList(model);
  if (invocation.json) printJson(io, list);
  else io.out(describeMirrorList(list));
  return 0;
}

function report(error: unknown, invocation: Invocation | undefined, io: Console): number {
  const json = invocation?.json === true;
  if (error instanceof UsageError) {
    io.err(`gen: ${error.message}\n\n${error.usage}`);
    return 2;
  }
  if (error instanceof InventoryError) {
    if (json) printJson(io, { ok: false, errors: error.problems.map((p) => ({ file: error.file, ...p, text: formatProblem(error.file, p) })) });
    else io.err(error.message + '\n');
    return 1;
  }
  if (error instanceof SecretsError || error instanceof FolderError) {
    if (json) printJson(io, { ok: false, errors: error.problems.map((p) => ({ [error.label]: p })) });
    else io.err(error.problems.map((p) => `${error.label}: ${p}`).join('\n') + '\nNothing was written.\n');
    return 1;
  }
  if (error instanceof WriteError) {
    if (json) printJson(io, { ok: false, errors: [{ [error.label]: error.message }], nothingChanged: error.nothingChanged });
    else io.err(`${error.label}: ${error.message}\n${error.nothingChanged ? 'Nothing was changed: the previous output and secrets are as they were.\n' : ''}`);
    return 1;
  }
  if (error instanceof ReadRefused) {
    if (json) printJson(io, { ok: false, errors: [{ output: error.message }] });
    else io.err(`output: ${error.message}\nNothing was written.\n`);
    return 1;
  }
  if (isErrno(error)) {
    io.err(`gen: ${error.path ? `${error.path}: ` : ''}${errnoWords(error)}${error.syscall ? ` (${error.syscall})` : ''}\n`);
    return 1;
  }
  io.err(`gen: internal error (a bug in kubeha; please report it with this text):\n${(error as Error).stack ?? String(error)}\n`);
  return 1;
}
