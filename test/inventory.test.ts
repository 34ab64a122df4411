import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { assertGolden } from './golden.js';
import { cleanup, FIXTURES, modelOf, REPO, runCli, tempDir } from './helpers.js';
import { validateInventory } from '../src/inventory/index.js';
import { compileInventorySchema } from '../src/inventory/schema-compiler.js';
import { parseInventoryText } from '../src/inventory/parse.js';
import generatedValidator from '../src/inventory/validate-inventory.js';

const INVALID = join(FIXTURES, 'invalid');
const cases = readdirSync(INVALID).sort();

test('there are at least fifteen distinct bad inventories', () => {
  assert.ok(cases.length >= 15, `only ${cases.length} cases`);
});

for (const name of cases) {
  test(`invalid/${name}: exit 1, every problem with its JSON path, nothing written`, async () => {
    const dir = join(INVALID, name);
    const file = readdirSync(dir).find((f) => f.startsWith('inventory.'))!;
    const scratch = tempDir();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const gen = await runCli([file, '--out', join(scratch, 'out'), '--secrets', join(scratch, 'secrets')]);
      const validate = await runCli(['validate', file]);
      assert.is(gen.code, 1, gen.err);
      assert.is(validate.code, 1);
      assert.is(gen.out, '');
      assert.is(validate.err, gen.err, 'validate and gen report the same problems');
      assert.not.match(gen.err, /\n\s+at /, 'no stack trace');
      assertGolden(join(dir, 'errors.txt'), gen.err, `${name}/errors.txt`);
      assert.equal(readdirSync(scratch), [], 'nothing written: no out/, no secrets/');
    } finally {
      process.chdir(cwd);
      cleanup(scratch);
    }
  });
}

/** The value a JSON pointer (RFC 6901) names in a document, or undefined when it names nothing. */
function resolvePointer(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((value, key) => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined), doc);
}

test('every error line names the file and a JSON pointer that exists in the document', () => {
  let pointers = 0;
  for (const name of cases) {
    const dir = join(INVALID, name);
    const file = readdirSync(dir).find((f) => f.startsWith('inventory.'))!;
    const text = readFileSync(join(dir, file), 'utf8');
    const { errors } = validateInventory(file, text);
    assert.ok(errors.length > 0, `${name} has no error`);
    const lines = readFileSync(join(dir, 'errors.txt'), 'utf8').trimEnd().split('\n');
    assert.is(lines.length, errors.length, `${name}: one errors.txt line per problem`);
    const parsed = parseInventoryText(file, text);
    errors.forEach((problem, i) => {
      assert.ok(lines[i]!.startsWith(problem.pointer ? `${file} ${problem.pointer}: ` : `${file}: `), `${name}: ${lines[i]}`);
      if (!parsed.ok) return;
      // A value of the document, or a key its object leaves to the schema default (serviceSubnet, say).
      const parent = resolvePointer(parsed.parsed.value, problem.pointer.slice(0, problem.pointer.lastIndexOf('/')));
      const named = resolvePointer(parsed.parsed.value, problem.pointer) !== undefined || (typeof parent === 'object' && parent !== null);
      assert.ok(named, `${name}: ${problem.pointer} names nothing in ${file}`);
      if (problem.pointer) pointers++;
    });
  }
  assert.ok(pointers >= 20, `only ${pointers} non-root pointers checked`);
});

const runbook = () => JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));

test('the runbook example is valid and the defaults are applied', () => {
  const model = modelOf(runbook());
  assert.is(model.cluster.name, 'kubernetes');
  assert.is(model.cluster.dnsDomain, 'cluster.local');
  assert.is(model.cluster.imageRepository, 'registry.k8s.io');
  assert.is(model.cluster.containerRuntime, 'containerd');
  assert.is(model.cluster.kubeProxyMode, 'nftables', 'unset on 1.34: nftables, GA since 1.33');
  assert.is(model.cluster.kubeadmApiVersion, 'kubeadm.k8s.io/v1beta4');
  assert.is(model.etcd.dataDir, '/var/lib/etcd');
  assert.is(model.loadBalancer?.vrrp, 'unicast');
  assert.equal(model.controlPlaneEndpoint, { host: '10.0.8.100', port: 16443 });
  assert.is(model.init.name, 'worker1');
  assert.is(model.etcd.initialCluster, 'ceph1=https://172.21.16.14:2380,ceph2=https://172.21.16.6:2380,ceph3=https://172.21.16.13:2380');
});

test('an unset kubeProxyMode follows the version: iptables to 1.32, nftables (GA upstream) from 1.33; a mode set is kept', () => {
  const mode = (version: string, set?: string) => {
    const doc = runbook();
    doc.cluster.kubernetesVersion = version;
    if (set) doc.cluster.kubeProxyMode = set;
    const result = validateInventory('inventory.json', JSON.stringify(doc));
    assert.equal(result.errors, [], version);
    return [result.inventory!.cluster.kubeProxyMode, ...result.warnings.map((w) => w.message)];
  };
  assert.equal(mode('1.24.17'), ['iptables']);
  assert.equal(mode('1.31.14'), ['iptables'], 'beta in 1.31 and 1.32: not a default');
  assert.equal(mode('1.32.13'), ['iptables']);
  assert.equal(mode('1.33.0'), ['nftables']);
  assert.equal(mode('1.37.2'), ['nftables'], 'no warning: kubeha no longer picks the deprecated ipvs');
  assert.equal(mode('1.36.3', 'ipvs'), ['ipvs', 'ipvs mode is deprecated since Kubernetes 1.35: prefer "nftables"']);
  assert.equal(mode('1.33.0', 'iptables'), ['iptables']);
});

test('YAML and JSON give the same model', () => {
  const yaml = `cluster:\n  kubernetesVersion: "1.34.2"\n  podSubnet: 10.97.0.0/16\n  serviceSubnet: 10.96.0.0/16\nloadBalancer: { vip: 10.0.8.100, interface: eth0 }\nhosts:\n${runbook()
    .hosts.map((h: any) => `  - name: ${h.name}\n    address: ${h.address}\n    roles: [${h.roles.join(', ')}]\n`)
    .join('')}`;
  const fromYaml = validateInventory('inventory.yaml', yaml);
  const fromJson = validateInventory('inventory.json', JSON.stringify(runbook()));
  assert.equal(fromYaml.errors, []);
  assert.equal(fromYaml.inventory, fromJson.inventory);
});

test("the VRRP interface: none by default (run.sh finds it on the host), the inventory's when set, a host's own first", () => {
  const doc = runbook();
  delete doc.loadBalancer.interface;
  doc.hosts[1].interface = 'ens224';
  const found = modelOf(doc);
  assert.equal(
    found.hosts.filter((h) => h.isLoadBalancer).map((h) => h.interface),
    [null, 'ens224'],
  );
  doc.loadBalancer.interface = 'ens192';
  assert.equal(
    modelOf(doc)
      .hosts.filter((h) => h.isLoadBalancer)
      .map((h) => h.interface),
    ['ens192', 'ens224'],
  );
});

test('roles combined on one host and loopback addresses are accepted', () => {
  const model = modelOf({
    cluster: { kubernetesVersion: '1.30.6', podSubnet: '10.244.0.0/16' },
    hosts: [{ name: 'solo', address: '127.0.1.1', roles: ['control-plane', 'worker', 'etcd'] }],
  });
  const solo = model.hosts[0]!;
  assert.ok(solo.isControlPlane && solo.isWorker && solo.isEtcd && solo.isInit);
  assert.is(model.cluster.kubeadmApiVersion, 'kubeadm.k8s.io/v1beta3');
  assert.equal(model.controlPlaneEndpoint, { host: '127.0.1.1', port: 6443 });
  assert.equal(model.runOrder, [{ title: 'etcd members', hosts: ['solo'] }]);
});

test('an even etcd count is a warning, not an error', () => {
  const doc = runbook();
  doc.hosts.pop();
  const result = validateInventory('inventory.json', JSON.stringify(doc));
  assert.ok(result.inventory);
  assert.equal(
    result.warnings.map((w) => w.message),
    ['2 etcd members tolerate no more failures than 1: use an odd number'],
  );
});

test('the run order puts etcd first, then load balancers, init, joining control planes, workers', () => {
  const model = modelOf({
    cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16' },
    loadBalancer: { vip: '10.0.0.100' },
    hosts: [
      { name: 'w1', address: '10.0.0.21', roles: ['worker'] },
      { name: 'cp1', address: '10.0.0.11', roles: ['control-plane'] },
      { name: 'cp2', address: '10.0.0.12', roles: ['control-plane'] },
      { name: 'lb1', address: '10.0.0.31', roles: ['loadbalancer'] },
      { name: 'lb2', address: '10.0.0.32', roles: ['loadbalancer'] },
      { name: 'e1', address: '10.0.0.41', roles: ['etcd'] },
    ],
  });
  assert.equal(
    model.runOrder.map((s) => s.hosts),
    [['e1'], ['lb1', 'lb2'], ['cp1'], ['cp2'], ['w1']],
  );
  assert.equal(
    model.hosts.filter((h) => h.isLoadBalancer).map((h) => [h.vrrpPriority, h.vrrpPeers]),
    [
      [150, ['10.0.0.32']],
      [149, ['10.0.0.31']],
    ],
  );
});

test('the build-time validator gives exactly the errors of a schema compiled now (it is not stale)', () => {
  const generated = generatedValidator;
  const { validate: fresh } = compileInventorySchema({ source: false, esm: false });
  let compared = 0;
  for (const name of cases) {
    const dir = join(INVALID, name);
    const file = readdirSync(dir).find((f) => f.startsWith('inventory.'))!;
    const parsed = parseInventoryText(file, readFileSync(join(dir, file), 'utf8'));
    if (!parsed.ok) continue;
    const a = structuredClone(parsed.parsed.value);
    const b = structuredClone(parsed.parsed.value);
    assert.is(generated(a), fresh(b), name);
    assert.equal(a, b, `${name}: same defaults`);
    assert.equal(
      (generated.errors ?? []).map((e) => [e.instancePath, e.keyword]),
      (fresh.errors ?? []).map((e) => [e.instancePath, e.keyword]),
      name,
    );
    compared++;
  }
  assert.ok(compared > 20);
});

test('every bundled example is valid', () => {
  for (const name of readdirSync(join(REPO, 'examples'))) {
    const result = validateInventory(name, readFileSync(join(REPO, 'examples', name), 'utf8'));
    assert.equal(result.errors, [], name);
  }
});

test.run();
