import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ARTIFACTS, STEPS } from '../src/render/artifacts.js';
import { compileDoc, TEMPLATES } from './helpers.js';

const cluster = (runtime: string) => ({
  cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16', containerRuntime: runtime },
  loadBalancer: { vip: '10.0.0.100' },
  hosts: [
    { name: 'cp1', address: '10.0.0.11', roles: ['control-plane', 'etcd', 'loadbalancer'] },
    { name: 'cp2', address: '10.0.0.12', roles: ['control-plane', 'loadbalancer'] },
    { name: 'w1', address: '10.0.0.21', roles: ['worker'] },
    { name: 'w2', address: '10.0.0.22', roles: ['worker'] },
  ],
});

test('artifacts marked sameOnEveryHost really render the same bytes on every host that gets them', async () => {
  let checked = 0;
  for (const runtime of ['containerd', 'docker']) {
    const { model, secrets } = await compileDoc(cluster(runtime));
    for (const artifact of ARTIFACTS.filter((a) => a.sameOnEveryHost)) {
      const renders = model.hosts.filter((h) => artifact.when(h, model)).map((host) => String(artifact.render({ model, host, secrets, templates: TEMPLATES })));
      if (renders.length < 2) continue;
      for (const r of renders) assert.is(r, renders[0], `${artifact.path} differs between hosts`);
      checked++;
    }
  }
  assert.ok(checked >= 7, `checked ${checked}`);
});

/** 3 etcd members, 3 control planes listing their roles in different orders, 2 workers. */
const separateEtcd = {
  cluster: { kubernetesVersion: '1.30.4', podSubnet: '10.244.0.0/16' },
  loadBalancer: { vip: '10.0.0.100' },
  hosts: [
    ...[1, 2, 3].map((i) => ({ name: `etcd${i}`, address: `10.0.1.${i}`, roles: ['etcd'] })),
    { name: 'cp1', address: '10.0.0.11', roles: ['control-plane', 'loadbalancer'] },
    { name: 'cp2', address: '10.0.0.12', roles: ['loadbalancer', 'control-plane'] },
    { name: 'cp3', address: '10.0.0.13', roles: ['control-plane'] },
    { name: 'w1', address: '10.0.0.21', roles: ['worker'] },
    { name: 'w2', address: '10.0.0.22', roles: ['worker'] },
  ],
};

test('steps marked sameOnEveryHost (sameForSameRoles) really render the same script on every host (of the same roles)', async () => {
  const checked = new Set<string>();
  for (const doc of [cluster('containerd'), cluster('docker'), separateEtcd]) {
    const { model, secrets } = await compileDoc(doc);
    for (const step of STEPS.filter((s) => s.sameOnEveryHost || s.sameForSameRoles)) {
      const groups = new Map<string, string[]>();
      for (const host of model.hosts.filter((h) => step.when(h, model))) {
        const key = step.sameOnEveryHost ? '' : [...host.roles].sort().join(',');
        groups.set(key, [...(groups.get(key) ?? []), step.script({ model, host, secrets, templates: TEMPLATES })]);
      }
      for (const [key, scripts] of [...groups].filter(([, scripts]) => scripts.length > 1)) {
        for (const script of scripts) assert.is(script, scripts[0], `${step.name} differs between hosts${key ? ` with roles ${key}` : ''}`);
        checked.add(step.name);
      }
    }
  }
  const declared = STEPS.filter((s) => s.sameOnEveryHost || s.sameForSameRoles).map((s) => s.name);
  assert.ok(checked.size === declared.length, `checked ${checked.size} of ${declared.length}: ${declared.filter((n) => !checked.has(n)).join(', ')}`);
});

test('no two artifacts install the same path on one host', async () => {
  const { model } = await compileDoc(cluster('containerd'));
  for (const host of model.hosts) {
    const paths = ARTIFACTS.filter((a) => a.when(host, model)).map((a) => a.path);
    assert.is(new Set(paths).size, paths.length, host.name);
  }
});

test.run();
