/**
 * Inventory strings that are the names of JavaScript objects' own properties (issue 27, item 1): `constructor`,
 * `__proto__`, `map`, `length`, ... as a registry, an image repository, a host, cluster or interface name. Wherever an
 * inventory string indexes a table, a name the prototype already holds must read as absent: gen succeeds or refuses
 * the input cleanly, it never crashes.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateInventory } from '../src/inventory/index.js';
import { buildModel } from '../src/model/model.js';
import { describePlan, planJson } from '../src/model/plan.js';
import { mirrorList, describeMirrorList } from '../src/render/mirror-list.js';
import { allHostFiles, compile } from '../src/index.js';
import { cleanup, runCli, secretsFor, tempDir, TEMPLATES, type InventoryDoc, withoutEndOfLife } from './helpers.js';

/** Every own property name of the prototypes a lookup could fall through to (objects, arrays, functions, strings). */
const PROTOTYPE_NAMES = [...new Set([Object.prototype, Array.prototype, Function.prototype, String.prototype].flatMap((p) => Object.getOwnPropertyNames(p)))];
/** The names a plain object or a function holds: what a table lookup (`table[key]`) can fall through to. */
const OBJECT_NAMES = [...new Set([Object.prototype, Function.prototype].flatMap((p) => Object.getOwnPropertyNames(p)))];

function base(): InventoryDoc {
  return {
    cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16' },
    loadBalancer: { vip: '127.0.1.100' },
    hosts: [
      { name: 'cp1', address: '127.0.1.1', roles: ['control-plane', 'etcd', 'loadbalancer'] },
      { name: 'cp2', address: '127.0.1.2', roles: ['control-plane', 'loadbalancer'] },
      { name: 'w1', address: '127.0.1.4', roles: ['worker'] },
    ],
  };
}

/** An object with one own key (an own "__proto__" too, which JSON.stringify then writes as a file would hold it). */
const only = (key: string, value: unknown): Record<string, unknown> =>
  Object.defineProperty({}, key, { value, enumerable: true, writable: true, configurable: true });

/** Kinds of inventory keys that take every name at once: one inventory holds them all. */
const MANY: Record<string, (doc: InventoryDoc, names: string[]) => void> = {
  'mirrors.registries keys': (d, names) => {
    d.mirrors = { registries: {} };
    for (const n of names) Object.defineProperty(d.mirrors.registries, n, { value: 'https://harbor.example.cn/x', enumerable: true });
  },
  'host names': (d, names) => {
    d.hosts.push(...names.map((name, i) => ({ name, address: `127.0.2.${i + 1}`, roles: ['worker'] })));
  },
};

/** Kinds of inventory strings that name or look up something, each set to one name in a fresh inventory. */
const ONE: Record<string, (doc: InventoryDoc, name: string) => void> = {
  'imageRepository (its registry indexes mirrors.registries)': (d, n) => {
    d.cluster.imageRepository = n;
    d.mirrors = { registries: { 'docker.io': 'https://harbor.example.cn/x' } };
  },
  'imageRepository with the runtime docker': (d, n) => {
    d.cluster.imageRepository = `${n}/k8s`;
    d.cluster.containerRuntime = 'docker';
    d.mirrors = { registries: { 'docker.io': 'https://dockerhub.example.cn' } };
  },
  'cluster name': (d, n) => {
    d.cluster.name = n;
  },
  'interface name': (d, n) => {
    d.loadBalancer.interface = n;
  },
  'etcd.tarballs key': (d, n) => {
    d.etcd = { tarballs: only(n, { url: 'https://files.example.cn/etcd.tar.gz', sha256: 'a'.repeat(64) }) };
  },
  'ansible.user': (d, n) => {
    d.ansible = { user: n };
  },
  'top-level key': (d, n) => {
    Object.defineProperty(d, n, { value: { x: 1 }, enumerable: true });
  },
};

/** The names of `names` the schema and rules let through when `set` puts each alone in an inventory. */
function validNames(names: readonly string[], set: (doc: InventoryDoc, name: string) => void): string[] {
  return names.filter((name) => {
    const doc = base();
    set(doc, name);
    return validateInventory('inventory.json', JSON.stringify(doc)).inventory !== null;
  });
}

/** Compiles every output of an inventory in memory: each host's files, the rollout, the plan and the artifact list. */
async function compileEverything(text: string): Promise<string[]> {
  const result = validateInventory('inventory.json', text);
  if (!result.inventory) return result.errors.map((p) => p.message);
  const model = buildModel(result.inventory);
  const compiled = compile(model, { secrets: await secretsFor(model), templates: TEMPLATES });
  allHostFiles(compiled);
  compiled.rollout();
  describePlan(model);
  planJson(model);
  describeMirrorList(mirrorList(model));
  return [];
}

test('prototype property names as registries and host names, all in one inventory: compiled, never a crash', async () => {
  for (const [kind, set] of Object.entries(MANY)) {
    const names = validNames(PROTOTYPE_NAMES, (d, n) => set(d, [n]));
    // Lowercase names where the schema allows them: the loop below compiles them.
    assert.ok(names.includes('constructor') && names.includes('map') && names.length > 40, `${kind}: ${names.join(' ')}`);
    const doc = base();
    set(doc, names);
    assert.equal(await compileEverything(JSON.stringify(doc)), [], kind);
  }
});

test('an object property name as any other kind of inventory key or name: compiled or refused, never a crash', async () => {
  const accepted = new Map<string, string[]>();
  for (const [kind, set] of Object.entries(ONE)) {
    accepted.set(kind, []);
    for (const name of OBJECT_NAMES) {
      const doc = base();
      set(doc, name);
      try {
        if ((await compileEverything(JSON.stringify(doc))).length === 0) accepted.get(kind)!.push(name);
      } catch (error) {
        assert.unreachable(`${kind} "${name}": ${(error as Error).stack}`);
      }
    }
  }
  const names = (kind: string) => accepted.get(kind)!.join(' ');
  assert.match(names('cluster name'), /\bconstructor\b/);
  assert.match(names('interface name'), /(^| )__proto__( |$)/);
  assert.match(names('interface name'), /\bhasOwnProperty\b/);
  assert.is(names('etcd.tarballs key'), '');
  assert.is(names('top-level key'), '');
});

test('gen with a registry and an image repository named "constructor" writes the bundles', async () => {
  const dir = tempDir();
  try {
    const doc = base();
    doc.cluster.imageRepository = 'constructor';
    doc.mirrors = { registries: { constructor: 'https://harbor.example.cn/k8s', 'docker.io': 'https://dockerhub.example.cn' } };
    const file = join(dir, 'inventory.json');
    writeFileSync(file, JSON.stringify(doc));
    const r = await runCli([file, '--out', join(dir, 'out'), '--secrets', join(dir, 'secrets'), '--quiet']);
    assert.is(withoutEndOfLife(r.err), '');
    assert.is(r.code, 0);
    const artifacts = await runCli(['artifacts', file]);
    assert.is(artifacts.code, 0, artifacts.err);
    assert.match(artifacts.out, 'harbor.example.cn/k8s/kube-apiserver:v1.34.2');
  } finally {
    cleanup(dir);
  }
});

test('a "__proto__" key is an unknown key wherever the schema lists the keys, in JSON and YAML alike', () => {
  const json =
    '{"__proto__": {"x": 1}, "cluster": {"kubernetesVersion": "1.34.2", "podSubnet": "10.244.0.0/16", "__proto__": {}}, "hosts": [{"name": "a", "address": "10.0.0.1", "roles": ["control-plane", "etcd"], "__proto__": []}]}';
  assert.equal(
    validateInventory('inventory.json', json).errors.map((p) => p.pointer),
    ['/__proto__', '/cluster/__proto__', '/hosts/0/__proto__'],
  );
  const yaml =
    'cluster: { kubernetesVersion: "1.34.2", podSubnet: 10.244.0.0/16 }\nmirrors: { registries: { __proto__: "https://a.example.cn" } }\nhosts: [{ name: a, address: 10.0.0.1, roles: [control-plane, etcd] }]\n';
  assert.equal(
    validateInventory('inventory.yaml', yaml).errors.map((p) => `${p.pointer} (line ${p.line})`),
    ['/mirrors/registries/__proto__ (line 2)'],
  );
});

test.run();
