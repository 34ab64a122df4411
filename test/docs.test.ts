import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inventoryReference } from '../src/docs/inventory-reference.js';
import { inventorySchema } from '../src/inventory/schema.js';
import { REPO } from './helpers.js';

test('docs/inventory.md is generated from the schema and up to date (npm run docs rewrites it)', () => {
  const committed = readFileSync(join(REPO, 'docs', 'inventory.md'), 'utf8');
  assert.is(committed, inventoryReference(inventorySchema), 'docs/inventory.md is stale: run npm run docs');
});

test('src/inventory/schema.generated.ts is generated from the schema and up to date (npm run types rewrites it)', async () => {
  const { schemaTypes } = await import('../tools/schema-types.js');
  const committed = readFileSync(join(REPO, 'src', 'inventory', 'schema.generated.ts'), 'utf8');
  assert.is(committed, await schemaTypes(), 'src/inventory/schema.generated.ts is stale: run npm run types');
});

test('the reference names every key of the schema', () => {
  const doc = inventoryReference(inventorySchema);
  for (const key of [
    'cluster.kubernetesVersion',
    'cluster.certificates.keyAlgorithm',
    'loadBalancer.vrrp',
    'loadBalancer.stats.port',
    'etcd.dataDir',
    'hosts[].roles',
    'hosts[].interface',
  ]) {
    assert.match(doc, `| \`${key}\` |`);
  }
});

test('the README and the operations guide exist and start with what an operator needs', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  assert.match(readme, /```sh\nnpm ci && npm run build && npm run gen -- examples\/runbook\.json/);
  const ops = readFileSync(join(REPO, 'docs', 'operations.md'), 'utf8');
  for (const section of [
    '## First install',
    '## Add a worker',
    '## Add a control plane',
    '## Replace an etcd member',
    '## Renew certificates',
    '## Back up the secrets folder',
  ]) {
    assert.match(ops, section);
  }
});

test.run();
