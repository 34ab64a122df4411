/**
 * The validation rules at their boundaries: the last value a rule accepts and the first it refuses, each expectation
 * a literal (Kubernetes' and flannel's limits as their docs state them), so that a rule moved by one (< for <=, 24 for
 * 23) fails here. The fixtures (test/rule-fixtures.test.ts) show each rule's message once; this file pins its edges.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateInventory } from '../src/inventory/index.js';
import { type InventoryDoc, REPO } from './helpers.js';

const runbook = (): InventoryDoc => JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));

/** Every problem of the runbook changed by `change`, as `severity POINTER: message`. */
function problemsOf(change: (d: InventoryDoc) => void): string[] {
  const doc = runbook();
  change(doc);
  const r = validateInventory('inventory.json', JSON.stringify(doc));
  return [...r.errors, ...r.warnings].map((p) => `${p.severity} ${p.pointer}: ${p.message}`);
}

const worker = (n: number) => ({ name: `w${n}`, address: `10.0.9.${n}`, roles: ['worker'] });

test('the runbook itself has no problem (the base of every case below)', () => {
  assert.equal(
    problemsOf(() => {}),
    [],
  );
});

test('end of life: a warning from the day kubernetes.io gives (1.34: 2026-10-27), none the day before nor without a day', () => {
  const doc = runbook();
  const on = (today?: string) =>
    validateInventory('inventory.json', JSON.stringify(doc), today).warnings.map((p) => `${p.severity} ${p.pointer}: ${p.message}`);
  assert.equal(on('2026-10-26'), []);
  const ended =
    'warning /cluster/kubernetesVersion: Kubernetes 1.34 reached its upstream end of life on 2026-10-27: no more patch releases, security fixes included; plan the upgrade to a supported minor (kubeha supports up to 1.37, one minor at a time)';
  assert.equal(on('2026-10-27'), [ended]);
  assert.equal(on('2026-12-04'), [ended]);
  assert.equal(on(undefined), [], 'no day given (a library caller without a clock): no date rule');
  doc.cluster.kubernetesVersion = '1.37.2';
  doc.etcd = { version: '3.5.27' };
  assert.equal(on('2026-12-04'), [], '1.37 ends on 2027-10-28');
  assert.equal(on('2027-10-28'), [
    'warning /cluster/kubernetesVersion: Kubernetes 1.37 reached its upstream end of life on 2027-10-28: no more patch releases, security fixes included; plan the upgrade to a supported minor (kubeha supports up to 1.37, one minor at a time)',
  ]);
});

test('pod subnet: a /24 per node (flannel), so a /N holds 2^(24-N) nodes; /24 is the smallest', () => {
  // The runbook has two nodes (its control planes): a /23 holds exactly two.
  assert.equal(
    problemsOf((d) => {
      d.cluster.podSubnet = '10.97.0.0/23';
    }),
    [],
  );
  assert.equal(
    problemsOf((d) => {
      d.cluster.podSubnet = '10.97.0.0/23';
      d.hosts.push(worker(1));
    }),
    ['error /cluster/podSubnet: /23 holds 2 node ranges (/24 each) but the cluster has 3 nodes'],
  );
  assert.equal(
    problemsOf((d) => {
      d.cluster.podSubnet = '10.97.0.0/24';
      d.hosts[1].roles = ['loadbalancer'];
    }),
    [],
  );
  assert.equal(
    problemsOf((d) => {
      d.cluster.podSubnet = '10.97.0.0/24';
    }),
    ['error /cluster/podSubnet: /24 holds 1 node ranges (/24 each) but the cluster has 2 nodes'],
  );
  // Etcd members and load balancers that are not nodes take no pod range.
  assert.equal(
    problemsOf((d) => {
      d.cluster.podSubnet = '10.97.0.0/23';
      d.hosts.push(
        { name: 'lb3', address: '10.0.9.3', roles: ['loadbalancer'] },
        { name: 'e4', address: '10.0.9.4', roles: ['etcd'] },
        { name: 'e5', address: '10.0.9.5', roles: ['etcd'] },
      );
    }),
    [],
  );
});

test('service subnet: kube-apiserver takes /12 (the largest) to /28 here', () => {
  assert.equal(
    problemsOf((d) => {
      d.cluster.serviceSubnet = '10.96.0.0/12';
      d.cluster.podSubnet = '10.244.0.0/16';
    }),
    [],
  );
  assert.equal(
    problemsOf((d) => {
      d.cluster.serviceSubnet = '10.96.0.0/11';
      d.cluster.podSubnet = '10.244.0.0/16';
    }),
    ['error /cluster/serviceSubnet: /11 is too large: kube-apiserver accepts at most a /12'],
  );
  assert.equal(
    problemsOf((d) => {
      d.cluster.serviceSubnet = '10.96.0.0/28';
    }),
    [],
  );
  assert.equal(
    problemsOf((d) => {
      d.cluster.serviceSubnet = '10.96.0.0/29';
    }),
    ["error /cluster/serviceSubnet: /29 is too small for the cluster's services"],
  );
});

test('kube-proxy mode: nftables from 1.31 (alpha before), ipvs deprecated from 1.35 (a warning), iptables always', () => {
  const mode = (version: string, kubeProxyMode: string) =>
    problemsOf((d) => {
      d.cluster.kubernetesVersion = version;
      d.cluster.kubeProxyMode = kubeProxyMode;
      d.etcd = { version: '3.5.27' };
    });
  assert.equal(mode('1.30.6', 'nftables'), [
    'error /cluster/kubeProxyMode: nftables mode needs Kubernetes 1.31 or later (it is alpha before that); this cluster runs 1.30.6',
  ]);
  assert.equal(mode('1.31.0', 'nftables'), []);
  assert.equal(mode('1.34.2', 'ipvs'), []);
  assert.equal(mode('1.35.0', 'ipvs'), ['warning /cluster/kubeProxyMode: ipvs mode is deprecated since Kubernetes 1.35: prefer "nftables"']);
  assert.equal(mode('1.35.0', 'iptables'), []);
  assert.equal(mode('1.35.0', 'nftables'), []);
});

test('etcd members: an odd count has no warning, an even one warns; "existing" needs a running member besides the new one', () => {
  const members = (n: number, state?: string) =>
    problemsOf((d) => {
      d.hosts = [
        ...d.hosts.filter((h: InventoryDoc) => !h.roles.includes('etcd')),
        ...[1, 2, 3, 4].slice(0, n).map((i) => ({ name: `e${i}`, address: `10.0.7.${i}`, roles: ['etcd'] })),
      ];
      if (state) d.etcd = { initialClusterState: state };
    });
  assert.equal(members(1), []);
  assert.equal(members(2), ['warning /hosts: 2 etcd members tolerate no more failures than 1: use an odd number']);
  assert.equal(members(3), []);
  assert.equal(members(4), ['warning /hosts: 4 etcd members tolerate no more failures than 3: use an odd number']);
  assert.equal(members(1, 'existing'), [
    'error /etcd/initialClusterState: "existing" adds members to a running etcd cluster: list its running members too (a single member must start as "new")',
  ]);
  assert.equal(members(3, 'existing'), []);
  assert.equal(members(1, 'new'), []);
});

test('certificates: a leaf may live as long as its CA, not a day longer; a bootstrap token of one second expires', () => {
  assert.equal(
    problemsOf((d) => {
      d.cluster.certificates = { caValidityDays: 400, leafValidityDays: 400 };
    }),
    [],
  );
  assert.equal(
    problemsOf((d) => {
      d.cluster.certificates = { caValidityDays: 400, leafValidityDays: 401 };
    }),
    [
      "error /cluster/certificates/leafValidityDays: 401 days is longer than the CAs' 400 days (caValidityDays): a certificate cannot outlive the CA that signs it",
    ],
  );
  for (const ttl of ['1s', '1m', '1h', '0h0m1s'])
    assert.equal(
      problemsOf((d) => {
        d.cluster.bootstrapTokenTTL = ttl;
      }),
      [],
      ttl,
    );
});

test('load balancers: two hosts with the role, no warning; a lone control plane needs no loadBalancer section', () => {
  assert.equal(
    problemsOf((d) => {
      d.hosts = d.hosts.filter((h: InventoryDoc) => h.name !== 'worker2');
      d.hosts[0].roles = ['control-plane'];
      delete d.loadBalancer;
    }),
    [],
  );
  assert.equal(
    problemsOf((d) => {
      d.hosts[1].roles = ['control-plane'];
    }),
    ['warning /loadBalancer: only one host has the role "loadbalancer": the VIP cannot fail over'],
  );
});

test.run();
