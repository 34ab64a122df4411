/** Shared test helpers: in-memory compiles, real generation into temp folders, and real-tool lookup. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allHostFiles, compile } from '../src/index.js';
import { validateInventory, formatProblem } from '../src/inventory/index.js';
import { buildModel } from '../src/model/model.js';
import type { ClusterModel } from '../src/model/types.js';
import { ensureSecrets } from '../src/pki/ensure.js';
import type { Secrets } from '../src/pki/secrets.js';
import { readTemplates } from '../src/cli/template-folder.js';
import { loadSecrets } from '../src/cli/secrets-store.js';
import { main } from '../src/cli/main.js';
import { realMachine, type Machine } from '../src/cli/machine.js';
import type { BundleFile } from '../src/bundle/manifest.js';
import { test } from 'uvu';
import { siteKubeadm } from './site-kubeadm.js';

/** The repository root. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** test/fixtures in the source tree. */
export const FIXTURES = join(REPO, 'test', 'fixtures');
/** The templates, read once. */
export const TEMPLATES = readTemplates(join(REPO, 'templates'));

/** A valid inventory as an object; tests clone and change it. */
export type InventoryDoc = Record<string, any>;

/** Validates an inventory object and builds its model; throws with every problem when invalid. */
export function modelOf(doc: InventoryDoc): ClusterModel {
  const result = validateInventory('inventory.json', JSON.stringify(doc));
  if (!result.inventory) throw new Error(result.errors.map((p) => formatProblem('inventory.json', p)).join('\n'));
  return buildModel(result.inventory);
}

/** Secrets for a model, made on top of the given ones (real keys, real clock). */
export async function secretsFor(model: ClusterModel, base: Secrets = { files: new Map(), tokens: null }): Promise<Secrets> {
  return (await ensureSecrets(model, base, { now: new Date(), crypto: globalThis.crypto })).secrets;
}

/** The stored secrets of a golden case (test/fixtures/golden/<name>/keys). */
export function fixtureSecrets(name: string): Secrets {
  return loadSecrets(join(FIXTURES, 'golden', name, 'keys'));
}

/** Compiles an inventory object in memory; returns each host's files by path. */
export async function compileDoc(
  doc: InventoryDoc,
  secrets?: Secrets,
): Promise<{ model: ClusterModel; secrets: Secrets; hosts: Map<string, Map<string, BundleFile>> }> {
  const model = modelOf(doc);
  const s = secrets ?? (await secretsFor(model));
  const bundles = allHostFiles(compile(model, { secrets: s, templates: TEMPLATES }));
  const hosts = new Map([...bundles].map(([host, files]) => [host, new Map(files.map((f) => [f.path, f]))]));
  return { model, secrets: s, hosts };
}

/** A file's text from a compiled host; throws when absent. */
export function text(hosts: Map<string, Map<string, BundleFile>>, host: string, path: string): string {
  const file = hosts.get(host)?.get(path);
  if (!file) throw new Error(`${host} has no ${path}; it has ${[...(hosts.get(host)?.keys() ?? [])].join(', ')}`);
  return file.bytes.toString('utf8');
}

/** A fresh temporary folder. */
export function tempDir(prefix = 'kubeha-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** The real machine (crypto, this process) with a clock and process table a test sets: see src/cli/machine.ts. */
export function testMachine(parts: Partial<Machine> & { now: Date }): Machine {
  return { ...realMachine(parts.now), ...parts };
}

/**
 * stderr without the warning that the inventory's Kubernetes minor is past its upstream end of life: it depends on the
 * day the test runs (the minors of the shipped inventories end one after another), so tests about other output drop it.
 */
export function withoutEndOfLife(err: string): string {
  return err
    .split('\n')
    .filter((l) => !/ \/cluster\/kubernetesVersion: warning: Kubernetes 1\.\d+ reached its upstream end of life on \d{4}-\d\d-\d\d: /.test(l))
    .join('\n');
}

/** Runs the CLI in-process (on the real machine, or the one given); returns exit status and what it printed. */
export async function runCli(args: string[], machine?: Machine): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(
    args,
    {
      out: (t) => {
        out += t;
      },
      err: (t) => {
        err += t;
      },
    },
    machine,
  );
  return { code, out, err };
}

/** Runs `gen` for an inventory file into a temp folder and unpacks every tarball; returns the folders. */
export async function generateAndUnpack(inventoryPath: string, secretsDir?: string): Promise<{ dir: string; out: string; secrets: string; unpacked: string }> {
  const dir = tempDir();
  const out = join(dir, 'out');
  const secrets = secretsDir ?? join(dir, 'secrets');
  const result = await runCli([inventoryPath, '--out', out, '--secrets', secrets, '--quiet']);
  if (result.code !== 0) throw new Error(`gen failed (${result.code}): ${result.err}`);
  const unpacked = join(dir, 'unpacked');
  execFileSync('mkdir', ['-p', unpacked]);
  for (const name of readFileSync(join(out, 'SHA256SUMS'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(/\s+/)[1]!)
    .filter((n) => n.endsWith('.tar.gz'))) {
    execFileSync('tar', ['-xzf', join(out, name), '-C', unpacked]);
  }
  return { dir, out, secrets, unpacked };
}

/** Every file below a folder, as paths relative to it. */
export function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n), `${prefix}${n}/`) : [`${prefix}${n}`]));
}

/** Every file below a folder with its bytes, sorted by path: compare two with assert.equal. */
export function snapshot(dir: string): Map<string, Buffer> {
  return new Map(
    walk(dir)
      .sort()
      .map((p) => [p, readFileSync(join(dir, p))]),
  );
}

/** Removes a temp folder. */
export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Whether CI is running (CI=true): a missing real tool is then a failure, not a skip. */
export const IN_CI = process.env.CI === 'true';

/** A need of a real-tool test that is not a program on PATH: network and mount namespaces (root), an x86-64 CPU. */
export const NAMESPACES = 'namespaces';
export const X64 = 'x64';
/** A need of a test that mounts file systems (a tmpfs): root. */
export const ROOT = 'root';

/** Why a need is unmet on this machine, or null when it is met; program names are looked up on PATH once. */
const unmet = (() => {
  const cache = new Map<string, string | null>();
  const check = (need: string): string | null => {
    if (need === NAMESPACES) return spawnSync('unshare', ['-n', '-m', 'true']).status === 0 ? null : 'cannot create namespaces (unshare -n -m; run as root)';
    if (need === ROOT) return process.getuid?.() === 0 ? null : 'needs root (it mounts a tmpfs)';
    if (need === X64) return process.arch === 'x64' ? null : `runs on x64 only (this is ${process.arch})`;
    if (/^kubeadm-1\.[0-9]+$/.test(need)) {
      const found = siteKubeadm(need);
      return 'missing' in found ? found.missing : null;
    }
    return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', need]).status === 0 ? null : `${need} is not installed`;
  };
  return (need: string) => {
    if (!cache.has(need)) cache.set(need, check(need));
    return cache.get(need)!;
  };
})();

/** Whether this machine can make network and mount namespaces (for tests that run either way, in one or without). */
export function canMakeNamespaces(): boolean {
  return unmet(NAMESPACES) === null;
}

/**
 * Registers a test that needs real tools (program names, NAMESPACES, X64, `kubeadm-1.XX`: the e2e site's kubeadm). When one is missing the test is not run:
 * outside CI it is registered as skipped (uvu counts it under "Skipped") and a `SKIP` line says why; with CI=true it
 * is registered as a test that fails saying what is missing (.ci/run must provide it).
 */
export function testNeeding(needs: readonly string[], name: string, fn: () => void | Promise<void>): void {
  const missing = needs.map(unmet).filter((why): why is string => why !== null);
  if (missing.length === 0) {
    test(name, fn);
  } else if (IN_CI) {
    test(name, () => {
      throw new Error(`${missing.join('; ')}: CI=true turns a skipped real-tool test into a failure`);
    });
  } else {
    console.log(`  SKIP ${name}: ${missing.join('; ')}`);
    test.skip(name, fn);
  }
}
