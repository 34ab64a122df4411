/**
 * `npm run mutate -- [PART...] [--force] [--dry-run]`: Stryker mutation testing over the pure core, one part at a
 * time. A PART is a folder or file under src/ of the core: inventory, model, pki, render, bundle (all five when none
 * is named), or narrower, such as render/picture, render/run-script.ts or 'inventory/*rules.ts' (quoted). Not part of CI: a habit, run before a change
 * to the core is merged; the score is printed and the report written to reports/mutation/PART.html.
 *
 * How it runs: Stryker writes every mutant of the part's files into one instrumented copy of the tree (mutant
 * switching), builds it once with tsc (no type check), then runs the part's fast unit tests once per mutant, choosing
 * the mutant by an environment variable. The runner is Stryker's `command` runner (uvu has no Stryker plugin): the
 * command is tools/uvu-subset.ts, the tests below in one uvu process, in their order, stopping at the first failure.
 * There is no per-test coverage, so every mutant runs the whole subset, and a mutant no test reaches counts as
 * survived, not as "no coverage". Stryker's TypeScript checker is not used: it needs TypeScript's JavaScript compiler
 * API, which TypeScript 7 (this project's compiler) does not ship; a mutant that would not type-check is built anyway
 * (the mutated files get @ts-nocheck) and run like any other.
 * Incremental: results are kept in reports/mutation/PART.incremental.json and reused for mutants whose code did not
 * change, but only while test/ is unchanged (the command runner cannot tell Stryker which tests changed, so a change
 * under test/ runs every mutant again); --force runs every mutant again.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Stryker } from '@stryker-mutator/core';
import type { PartialStrykerOptions } from '@stryker-mutator/api/core';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Each part of the pure core and the fast tests (test/NAME.test.ts) that judge its mutants, the likeliest killer first:
 * files of pure tests that take a second or two. Tests that start gen as a process or run real daemons (pki,
 * loadbalancer, runsh, ...) would cost 5-60 s a mutant; they still run in npm test. inventory-input (5 s: a few of
 * its cases start gen) goes last: most of the rules' cases that are not in fixtures are there, and only a mutant
 * that the fast files let live pays for it.
 */
export const PARTS: Record<string, readonly string[]> = {
  bundle: ['tar', 'golden', 'untar'],
  inventory: ['rule-fixtures', 'rule-boundaries', 'golden', 'inventory', 'inventory-input'],
  model: ['golden', 'plan', 'images', 'inventory', 'upgrade-plan', 'runtime', 'artifacts', 'kubeadm', 'flannel'],
  pki: ['golden', 'stored-secrets', 'cert-list', 'secrets-checks'],
  render: ['golden', 'runsh-decisions', 'cert-list', 'kubeadm', 'flannel', 'runtime', 'artifacts', 'upgrade-plan', 'picture'],
};

/** The tests of a part that exist (a test named in the table but not written yet is left out, and said so). */
function testsOf(part: string): string[] {
  const tests = PARTS[part.split('/')[0]!]!;
  const missing = tests.filter((t) => !existsSync(join(REPO, 'dist', 'test', `${t}.test.js`)));
  if (missing.length) process.stderr.write(`mutate ${part}: no test ${missing.join(', ')} (left out)\n`);
  return tests.filter((t) => !missing.includes(t));
}

/** A digest of every file under test/: incremental results are reused only while it is the same. */
function testTreeDigest(dir = join(REPO, 'test')): string {
  const hash = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      hash.update(path.slice(REPO.length) + '\0');
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(readFileSync(path));
    }
  };
  walk(dir);
  return hash.digest('hex');
}

/** Stryker's options for one part. */
export function optionsFor(part: string, flags: { force: boolean; dryRun: boolean }): PartialStrykerOptions {
  const file = part.replace(/[/*]/g, '-');
  const target = part.endsWith('.ts') ? `src/${part}` : `src/${part}/**/*.ts`;
  return {
    testRunner: 'command',
    commandRunner: { command: `node dist/tools/uvu-subset.js ${testsOf(part).join(' ')}` },
    // Run before node_modules is linked into the sandbox: tsc is on the PATH Stryker sets, packages up the tree. No
    // type check: the instrumented files change the types the tests see.
    buildCommand: 'npm run build:mutants',
    mutate: [target, '!src/**/*.generated.ts', '!src/**/*.d.ts'],
    // Only the mutated files get @ts-nocheck (a mutant need not type-check); the rest of the tree is built as it is.
    disableTypeChecks: target,
    ignorePatterns: ['/dist', '/out', '/secrets'],
    coverageAnalysis: 'off',
    concurrency: 2,
    incremental: true,
    incrementalFile: `reports/mutation/${file}.incremental.json`,
    force: flags.force,
    dryRunOnly: flags.dryRun,
    reporters: ['clear-text', 'progress', 'html', 'json'],
    htmlReporter: { fileName: `reports/mutation/${file}.html` },
    jsonReporter: { fileName: `reports/mutation/${file}.json` },
    clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: true },
    // Stryker rewrites tsconfig.json's paths with TypeScript's JavaScript API, which TypeScript 7 lacks; ours has no
    // extends or references to rewrite, so it is named as a file that does not exist.
    tsconfigFile: 'tsconfig.stryker-unused.json',
    tempDirName: '.stryker-tmp',
    cleanTempDir: 'always',
    timeoutMS: 10_000,
  };
}

/** Runs one part; returns its line of the summary. */
async function runPart(part: string, flags: { force: boolean; dryRun: boolean }): Promise<string> {
  const started = Date.now();
  const stamp = join(REPO, 'reports', 'mutation', `${part.replace(/[/*]/g, '-')}.tests-digest`);
  const digest = testTreeDigest();
  const testsChanged = !existsSync(stamp) || readFileSync(stamp, 'utf8') !== digest;
  const results = await new Stryker(optionsFor(part, { ...flags, force: flags.force || testsChanged })).runMutationTest();
  if (!flags.dryRun) {
    mkdirSync(join(REPO, 'reports', 'mutation'), { recursive: true });
    writeFileSync(stamp, digest);
  }
  const killed = results.filter((r) => r.status === 'Killed' || r.status === 'Timeout').length;
  const valid = results.filter((r) => !['CompileError', 'RuntimeError', 'Ignored'].includes(r.status)).length;
  const score = valid ? ((100 * killed) / valid).toFixed(1) : '-';
  return `mutate ${part}: ${killed}/${valid} mutants killed (${score}%) in ${Math.round((Date.now() - started) / 1000)} s${testsChanged ? '' : ' (incremental)'}`;
}

async function runAll(argv: string[]): Promise<number> {
  const flags = { force: argv.includes('--force'), dryRun: argv.includes('--dry-run') };
  const named = argv.filter((a) => !a.startsWith('--'));
  // A file pattern (inventory/*rules.ts) is Stryker's to expand; a folder or file must exist.
  const unknown = named.filter((p) => !(p.split('/')[0]! in PARTS) || (!p.includes('*') && !existsSync(join(REPO, 'src', p))));
  if (unknown.length) {
    process.stderr.write(`no part ${unknown.join(', ')}: use ${Object.keys(PARTS).join(', ')} or a folder or file under them\n`);
    return 2;
  }
  const lines: string[] = [];
  for (const part of named.length ? named : Object.keys(PARTS)) lines.push(await runPart(part, flags));
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

process.exitCode = await runAll(process.argv.slice(2));
