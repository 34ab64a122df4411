/** The inventories the picture is tested on: the examples, an odd mix of roles, and many workers. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchInventory } from '../bench/inventory.js';
import { formatProblem, validateInventory } from '../src/inventory/index.js';
import { buildModel } from '../src/model/model.js';
import type { ClusterModel } from '../src/model/types.js';
import { REPO } from './helpers.js';

/** Roles combined as no example does: a load balancer that is an etcd member, workers that are etcd members, a control plane that takes pods. */
export const MIXED = {
  cluster: { name: 'mixed', kubernetesVersion: '1.33.5', podSubnet: '10.244.0.0/16', containerRuntime: 'docker', cni: { backend: 'host-gw' } },
  loadBalancer: { vip: '10.1.0.100', port: 8443, vrrp: 'multicast', virtualRouterId: 7 },
  etcd: { clientPort: 12379, peerPort: 12380 },
  hosts: [
    { name: 'edge1', address: '10.1.0.1', roles: ['loadbalancer', 'etcd'] },
    { name: 'edge2', address: '10.1.0.2', roles: ['loadbalancer'] },
    { name: 'cp1', address: '10.1.0.11', roles: ['control-plane', 'worker'] },
    { name: 'store1', address: '10.1.0.21', roles: ['etcd', 'worker'] },
    { name: 'store2', address: '10.1.0.22', roles: ['etcd', 'worker'] },
    { name: 'w1', address: '10.1.0.31', roles: ['worker'] },
  ],
};

/** A VIP that no host of the inventory holds (a load balancer outside it) in front of three stacked control planes. */
export const EXTERNAL_LB = {
  cluster: { name: 'outside', kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16' },
  loadBalancer: { vip: '10.2.0.100', dnsName: 'api.outside.example' },
  hosts: [1, 2, 3].map((i) => ({ name: `node${i}`, address: `10.2.0.${i}`, roles: ['control-plane', 'etcd'] })),
};

/** The model of an inventory text; throws with every problem when it is invalid. */
export function modelOfText(file: string, text: string): ClusterModel {
  const result = validateInventory(file, text);
  if (!result.inventory) throw new Error(result.errors.map((p) => formatProblem(file, p)).join('\n'));
  return buildModel(result.inventory);
}

/** Every example inventory (examples/*), the mixed roles, an outside load balancer, 48 workers (the most drawn one by one) and 1000 workers, by name. */
export function pictureCases(): Map<string, ClusterModel> {
  const cases = new Map<string, ClusterModel>();
  for (const file of readdirSync(join(REPO, 'examples')).sort()) {
    cases.set(file.replace(/\.(json|yaml)$/, ''), modelOfText(file, readFileSync(join(REPO, 'examples', file), 'utf8')));
  }
  cases.set('mixed', modelOfText('mixed.json', JSON.stringify(MIXED)));
  cases.set('external-lb', modelOfText('external-lb.json', JSON.stringify(EXTERNAL_LB)));
  cases.set('workers-48', modelOfText('workers-48.json', JSON.stringify(benchInventory(48))));
  cases.set('workers-1000', modelOfText('workers-1000.json', JSON.stringify(benchInventory(1000))));
  return cases;
}

/** The inventories of the booted-host runs (e2e/inventories) and of the golden files, by path: the browser draws these too. */
export function moreInventories(): Map<string, ClusterModel> {
  const cases = new Map<string, ClusterModel>();
  const read = (rel: string) => cases.set(rel, modelOfText(rel, readFileSync(join(REPO, rel), 'utf8')));
  for (const file of readdirSync(join(REPO, 'e2e', 'inventories')).sort()) read(`e2e/inventories/${file}`);
  for (const name of readdirSync(join(REPO, 'test', 'fixtures', 'golden')).sort()) {
    const file = readdirSync(join(REPO, 'test', 'fixtures', 'golden', name)).find((f) => f.startsWith('inventory.'))!;
    read(`test/fixtures/golden/${name}/${file}`);
  }
  return cases;
}
