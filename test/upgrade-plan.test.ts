/** Upgrades at compile time: the version of the previous output decides what gen plan, diff, check and gen say or refuse. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, runCli, snapshot, tempDir, type InventoryDoc } from './helpers.js';

const TARGET = '1.34.2';
const inventory = (version: string): InventoryDoc => ({
  cluster: { name: 'up', kubernetesVersion: version, podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' },
  loadBalancer: { vip: '127.0.4.100' },
  etcd: { version: '3.5.24' },
  hosts: [
    { name: 'cp1', address: '127.0.4.1', roles: ['control-plane'] },
    { name: 'cp2', address: '127.0.4.2', roles: ['control-plane'] },
    { name: 'w1', address: '127.0.4.3', roles: ['worker'] },
    { name: 'etcd1', address: '127.0.4.4', roles: ['etcd'] },
  ],
});

test('compile time: gen plan shows the upgrade order, gen diff the change; skips and downgrades against out/ are refused, nothing written', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'inventory.json');
    const out = join(dir, 'out');
    const secrets = join(dir, 'secrets');
    const gen = async (version: string, command: string[] = []) => {
      writeFileSync(path, JSON.stringify(inventory(version)));
      return runCli([...command, path, '--out', out, ...(command[0] === 'plan' ? [] : ['--secrets', secrets, '--quiet'])]);
    };
    assert.is((await gen('1.33.5')).code, 0);
    const before = snapshot(out);
    const plan = await gen(TARGET, ['plan']);
    assert.is(plan.code, 0, plan.err);
    for (const line of [
      'Upgrade pending: Kubernetes 1.33.5 -> 1.34.2 (minor); every etcd member must run 3.5.24 or later (kubeadm leaves an external etcd alone).',
      '  1. cp1: kubeadm upgrade plan, kubeadm upgrade apply v1.34.2; drain, kubelet and kubectl 1.34.2, Ready at v1.34.2, uncordon',
      '  2. cp2: kubeadm upgrade node; kube-proxy and CoreDNS (every API server is new now); drain, kubelet and kubectl 1.34.2, Ready at v1.34.2, uncordon',
      "  3. workers, a few at a time (each drains itself with its kubelet's credentials): w1",
    ])
      assert.ok(plan.out.includes(line + '\n'), `plan lacks: ${line}\n${plan.out}`);
    const diff = await gen(TARGET, ['diff']);
    assert.is(diff.code, 0, diff.err);
    assert.match(diff.out, 'Upgrade pending: Kubernetes 1.33.5 -> 1.34.2 (minor)');
    assert.match(diff.out, /-kubernetesVersion: v1\.33\.5\n\s*\+kubernetesVersion: v1\.34\.2/);
    const same = await gen('1.33.5', ['plan']);
    assert.not.match(same.out, 'Upgrade pending');
    for (const [version, message] of [
      [
        '1.35.0',
        'inventory.json /cluster/kubernetesVersion: the previous output (' +
          out +
          '/cp1.tar.gz) was made for Kubernetes 1.33.5: 1.35.0 skips 1.34; kubeadm upgrades one minor version at a time',
      ],
      [
        '1.33.4',
        'inventory.json /cluster/kubernetesVersion: the previous output (' +
          out +
          '/cp1.tar.gz) was made for Kubernetes 1.33.5: kubeadm cannot downgrade a cluster to 1.33.4',
      ],
    ] as const) {
      for (const command of [[], ['plan'], ['diff'], ['check']]) {
        const r = await gen(version, command);
        assert.is(r.code, 1, `${version} ${command}: ${r.out}`);
        assert.match(r.err, message);
      }
    }
    assert.equal(snapshot(out), before, 'refused runs wrote nothing');
    assert.is((await gen(TARGET)).code, 0, 'one minor up is generated');
  } finally {
    cleanup(dir);
  }
});

test.run();
