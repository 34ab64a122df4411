import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allHostFiles, compile } from '../src/index.js';
import { validateInventory } from '../src/inventory/index.js';
import { buildModel } from '../src/model/model.js';
import { ensureSecrets } from '../src/pki/ensure.js';
import { octal } from '../src/common/files.js';
import { assertGolden, UPDATE } from './golden.js';
import { FIXTURES, TEMPLATES } from './helpers.js';
import { loadSecrets } from '../src/cli/secrets-store.js';

const GOLDEN = join(FIXTURES, 'golden');

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path).map((p) => `${name}/${p}`) : [name];
  });
}

for (const name of readdirSync(GOLDEN).sort()) {
  test(`golden/${name}: compile output equals the expected tree byte for byte`, async () => {
    const dir = join(GOLDEN, name);
    const file = readdirSync(dir).find((f) => f.startsWith('inventory.'))!;
    const result = validateInventory(file, readFileSync(join(dir, file), 'utf8'));
    assert.equal(result.errors, []);
    const model = buildModel(result.inventory!);
    const stored = loadSecrets(join(dir, 'keys'));
    // The fixture's secrets are complete: ensureSecrets must find nothing to make (else the golden would be random).
    const ensured = await ensureSecrets(model, stored, { now: new Date('2026-11-25T00:00:00Z'), crypto: globalThis.crypto });
    assert.equal(ensured.changes, [], 'the secrets fixture is complete');
    const compiled = compile(model, { secrets: stored, templates: TEMPLATES });
    const bundles = allHostFiles(compiled);
    const expectedDir = join(dir, 'expected');
    if (UPDATE) rmSync(expectedDir, { recursive: true, force: true });
    for (const [host, files] of bundles) {
      const manifest = files.map((f) => `${octal(f.mode)} ${f.path}\n`).join('');
      assertGolden(join(expectedDir, `${host}.manifest`), manifest, `${name}/${host}.manifest`);
      for (const f of files) assertGolden(join(expectedDir, host, f.path), f.bytes, `${name}/${host}/${f.path}`);
      const onDisk = listFiles(join(expectedDir, host)).sort();
      assert.equal(onDisk, files.map((f) => f.path).sort(), `${name}/${host}: no extra or missing golden files`);
    }
    const hostsOnDisk = readdirSync(expectedDir)
      .filter((n) => !n.endsWith('.manifest'))
      .sort();
    assert.equal(hostsOnDisk, [...bundles.keys()].sort(), 'one expected folder per host');
    const rollout = compiled.rollout();
    for (const f of rollout) assertGolden(join(dir, f.path), f.bytes, `${name}/${f.path}`);
    assert.equal(
      listFiles(join(dir, 'ansible')).sort(),
      rollout.map((f) => f.path.replace(/^ansible\//, '')).sort(),
      `${name}/ansible: no extra or missing golden files`,
    );
    const picture = compiled.picture();
    assertGolden(join(dir, picture.path), picture.bytes, `${name}/${picture.path}`);
  });
}

test('golden fixtures hold no unexpected files', () => {
  for (const name of readdirSync(GOLDEN)) {
    const entries = readdirSync(join(GOLDEN, name)).sort();
    assert.ok(
      entries.every((e) => ['ansible', 'cluster.svg', 'expected', 'keys', 'inventory.json', 'inventory.yaml', 'README.md'].includes(e)),
      `${name}: ${entries.join(', ')}`,
    );
    assert.ok(relative(GOLDEN, join(GOLDEN, name)) === name);
  }
});

test.run();
