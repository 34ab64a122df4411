/**
 * The shortest tour of kubeha, as a test (docs/architecture.md walks the same path): inventory text → validated
 * Inventory → ClusterModel → secrets → compile() → one host's files → its tarball's bytes → read back. Each step is
 * the function gen itself calls, in the layer that owns it; every expectation is a literal.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readTarball } from '../src/bundle/untar.js';
import { buildTarball } from '../src/bundle/tar.js';
import { compile } from '../src/index.js';
import { formatProblem, validateInventory } from '../src/inventory/index.js';
import { buildModel } from '../src/model/model.js';
import { ensureSecrets } from '../src/pki/ensure.js';
import { TEMPLATES } from './helpers.js';

/** The smallest cluster: one host that is control plane, worker and etcd member. */
const INVENTORY = `
cluster:
  kubernetesVersion: "1.34.2"
  podSubnet: 10.244.0.0/16
hosts:
  - { name: solo, address: 10.0.0.10, roles: [control-plane, worker, etcd] }
`;

test('from inventory text to a host tarball and back, through each layer', async () => {
  // 1. inventory/: parse, check against the schema (defaults filled in), then the named rules. Pure.
  const { inventory, errors, warnings } = validateInventory('inventory.yaml', INVENTORY);
  assert.equal(errors, []);
  assert.equal(warnings, []);
  assert.is(inventory!.cluster.serviceSubnet, '10.96.0.0/12', "the schema's default");

  // 2. model/: every decision about the cluster, made once (who runs kubeadm init, the order of the rollout, ...).
  const model = buildModel(inventory!);
  assert.is(model.init.name, 'solo');
  assert.equal(model.runOrder, [{ title: 'etcd members', hosts: ['solo'] }]);

  // 3. pki/: the secrets the model needs; the clock and the entropy are passed in (gen passes its Machine's).
  const { secrets, changes } = await ensureSecrets(
    model,
    { files: new Map(), tokens: null },
    { now: new Date('2026-01-01T00:00:00Z'), crypto: globalThis.crypto },
  );
  assert.equal(changes.map((c) => `${c.action} ${c.path}`).slice(0, 2), ['generated ca.key', 'generated ca.crt']);

  // 4. compile() (index.ts): render/ turns the model into each host's files, bundle/ adds SHA256SUMS. Pure.
  const compiled = compile(model, { secrets, templates: TEMPLATES });
  const files = compiled.hostFiles(0);
  const paths = files.map((f) => f.path);
  assert.ok(paths.includes('run.sh') && paths.includes('SHA256SUMS') && paths.includes('rootfs/etc/kubernetes/kubeadm-config.yaml'), paths.join(' '));
  assert.is(files.find((f) => f.path === 'rootfs/etc/etcd/pki/server.key')!.mode, 0o600, 'private keys are 0600');

  // 5. bundle/: the host's tarball, byte-reproducible; gen writes it as out/solo.tar.gz (cli/ does the writing).
  const tarball = buildTarball('solo', files);
  assert.ok(buildTarball('solo', files).equals(tarball), 'the same files give the same bytes');
  const back = readTarball(tarball, 'solo').filter((e) => e.type === 'file');
  assert.equal(
    back.map((e) => e.path),
    paths,
  );
  assert.ok(back.every((e, i) => e.bytes.equals(files[i]!.bytes) && e.mode === files[i]!.mode));
});

test('a bad inventory: every problem at once, each with its JSON pointer and line (schema first; the rules run on a document that passes it)', () => {
  const bad = INVENTORY.replace('10.0.0.10', '10.0.0.300').replace('etcd]', 'etcd, dancer]');
  const { inventory, errors } = validateInventory('inventory.yaml', bad);
  assert.is(inventory, null);
  assert.equal(
    errors.map((p) => formatProblem('inventory.yaml', p)),
    [
      'inventory.yaml /hosts/0/address: must match format "ipv4" (line 6)',
      'inventory.yaml /hosts/0/roles/3: must be one of "control-plane", "worker", "etcd", "loadbalancer" (line 6)',
    ],
  );
  const rules = validateInventory('inventory.yaml', INVENTORY.replace('10.244.0.0/16', '10.244.1.0/16'));
  assert.equal(
    rules.errors.map((p) => formatProblem('inventory.yaml', p)),
    ['inventory.yaml /cluster/podSubnet: 10.244.1.0/16 has host bits set: did you mean 10.244.0.0/16? (line 4)'],
  );
});

test.run();
