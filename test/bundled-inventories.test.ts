import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO, runCli, withoutEndOfLife } from './helpers.js';

/** Every inventory the project ships: the examples operators copy and the ones the e2e runs boot. */
const SHIPPED = ['examples', join('e2e', 'inventories')].flatMap((dir) =>
  readdirSync(join(REPO, dir))
    .filter((f) => /\.(json|ya?ml)$/.test(f))
    .map((f) => join(dir, f)),
);

test('the project ships inventories to check', () => {
  assert.ok(SHIPPED.includes(join('examples', 'runbook.json')), SHIPPED.join(', '));
  assert.ok(SHIPPED.includes(join('e2e', 'inventories', 'default.json')), SHIPPED.join(', '));
});

for (const inventory of SHIPPED) {
  test(`gen plan accepts ${inventory} without an error or a warning, but that its minor has ended upstream (a CI stage boots it)`, async () => {
    const r = await runCli(['plan', join(REPO, inventory), '--json']);
    assert.is(r.code, 0, `${r.out}${r.err}`);
    assert.is(withoutEndOfLife(r.err), '', 'no warning');
    const plan = JSON.parse(r.out) as { hosts?: unknown[] };
    assert.ok(Array.isArray(plan.hosts) && plan.hosts.length > 0, r.out);
  });
}

test.run();
