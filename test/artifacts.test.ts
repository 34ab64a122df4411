import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ARTIFACTS } from '../src/render/artifacts.js';
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

test('no two artifacts install the same path on one host', async () => {
  const { model } = await compileDoc(cluster('containerd'));
  for (const host of model.hosts) {
    const paths = ARTIFACTS.filter((a) => a.when(host, model)).map((a) => a.path);
    assert.is(new Set(paths).size, paths.length, host.name);
  }
});

test.run();
