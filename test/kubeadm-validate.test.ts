/**
 * The real kubeadm checks kubeha's kubeadm configs: `kubeadm config validate --config FILE` (strict decoding of
 * kubeadm's kinds and the KubeletConfiguration, kubeadm's own validation) with the kubeadm of each Kubernetes release
 * the e2e site builds, over every golden kubeadm-config.yaml of that minor and the configs of generated inventories of
 * that minor: both runtimes, each kube-proxy mode the minor accepts, mirrors, a DNS name, cgroup v1 accepted, the addon.
 * A config kubeadm rejects fails with kubeadm's words. The binaries come from the e2e cache (test/site-kubeadm.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { KUBERNETES_MINORS } from '../src/common/kubernetes-versions.js';
import { minorOf } from '../src/common/versions.js';
import { KUBEADM_ADDONS_PATH, KUBEADM_CONFIG_PATH } from '../src/render/kubeadm.js';
import { cleanup, compileDoc, FIXTURES, tempDir, testNeeding, text, type InventoryDoc } from './helpers.js';
import { kubeadmNeed, siteKubeadm } from './site-kubeadm.js';
import { KUBERNETES_RELEASES } from '../e2e/cluster/components.js';

const CONFIG = `rootfs${KUBEADM_CONFIG_PATH}`;

/** kubeadm config validate of one file: null when kubeadm accepts it, else kubeadm's words. */
export function kubeadmRejects(kubeadm: string, file: string): string | null {
  const r = spawnSync(kubeadm, ['config', 'validate', '--config', file], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 ? null : `exit ${r.status ?? r.signal}: ${(r.stderr + r.stdout).trim()}`;
}

/** Every golden kubeadm-config.yaml whose inventory is at this minor, by fixture and host. */
function goldenConfigs(minor: number): { what: string; path: string }[] {
  const golden = join(FIXTURES, 'golden');
  return readdirSync(golden).flatMap((name) => {
    const inventory = readdirSync(join(golden, name)).find((f) => f.startsWith('inventory.'))!;
    const version = /kubernetesVersion"?:\s*"?(1\.[0-9]+\.[0-9]+)/.exec(readFileSync(join(golden, name, inventory), 'utf8'))?.[1];
    if (!version || minorOf(version) !== minor) return [];
    return readdirSync(join(golden, name, 'expected'))
      .filter((host) => !host.endsWith('.manifest'))
      .map((host) => ({ what: `golden/${name}/${host}`, path: join(golden, name, 'expected', host, CONFIG) }))
      .filter((c) => existsSync(c.path));
  });
}

/** An HA inventory at a version on routable addresses (kubeadm refuses to advertise a loopback one: two control planes that are load balancers, a worker, three etcd members) with `more` merged into cluster. */
function inventory(version: string, cluster: InventoryDoc = {}, more: InventoryDoc = {}): InventoryDoc {
  return {
    cluster: { kubernetesVersion: version, podSubnet: '10.244.0.0/16', ...cluster },
    loadBalancer: { vip: '10.0.54.100' },
    hosts: [
      { name: 'cp1', address: '10.0.54.1', roles: ['control-plane', 'loadbalancer'] },
      { name: 'cp2', address: '10.0.54.2', roles: ['control-plane', 'loadbalancer'] },
      { name: 'w1', address: '10.0.54.3', roles: ['worker'] },
      ...[1, 2, 3].map((i) => ({ name: `e${i}`, address: `10.0.54.${10 + i}`, roles: ['etcd'] })),
    ],
    ...more,
  };
}

/** The inventories generated for a release: each runtime and kube-proxy mode its minor accepts, and the options that change kubeadm-config.yaml. */
function generated(version: string): { what: string; doc: InventoryDoc }[] {
  const row = KUBERNETES_MINORS.find((m) => m.minor === minorOf(version))!;
  const mirrors = { registries: { 'registry.k8s.io': 'https://harbor.example.com/k8s' } };
  const out = row.kubeProxyModes.map((mode) => ({ what: `containerd, ${mode}`, doc: inventory(version, { kubeProxyMode: mode }) }));
  out.push({ what: 'docker, nftables', doc: inventory(version, { containerRuntime: 'docker', kubeProxyMode: 'nftables' }) });
  out.push({
    what: 'mirrors, dnsName, allowCgroupV1, evictionHard',
    doc: inventory(
      version,
      { kubeProxyMode: 'nftables', allowCgroupV1: true, kubelet: { evictionHard: { 'nodefs.available': '2Gi', 'pid.available': '5%' } } },
      { mirrors, loadBalancer: { vip: '10.0.54.100', dnsName: 'api.example.com' } },
    ),
  });
  if (row.kubePrometheus.length)
    out.push({
      what: 'kube-prometheus',
      doc: inventory(version, { kubeProxyMode: 'nftables' }, { addons: { kubePrometheus: { enabled: true, sha256: 'ab'.repeat(32) } } }),
    });
  return out;
}

/** Writes the kubeadm configs of a generated inventory (the init node, a joining control plane, a worker) into dir. */
async function generatedConfigs(what: string, doc: InventoryDoc, dir: string): Promise<{ what: string; path: string }[]> {
  const { hosts } = await compileDoc(doc);
  return ['cp1', 'cp2', 'w1'].map((host) => {
    const path = join(dir, `${what.replace(/[^a-z0-9]+/gi, '-')}-${host}.yaml`);
    writeFileSync(path, text(hosts, host, CONFIG));
    return { what: `${what} (${host})`, path };
  });
}

for (const release of KUBERNETES_RELEASES) {
  const minor = minorOf(release.version);
  testNeeding([kubeadmNeed(minor)], `kubeadm ${release.version} accepts every kubeadm-config.yaml kubeha writes for 1.${minor}`, async () => {
    const found = siteKubeadm(kubeadmNeed(minor));
    assert.ok('path' in found);
    const dir = tempDir();
    try {
      const configs = goldenConfigs(minor);
      for (const g of generated(release.version)) configs.push(...(await generatedConfigs(g.what, g.doc, dir)));
      assert.ok(configs.length >= 15, `${configs.length} configs`);
      const rejected = configs.flatMap((c) => {
        const why = kubeadmRejects(found.path, c.path);
        return why ? [`${c.what}: ${why}`] : [];
      });
      assert.equal(rejected, [], `kubeadm ${release.version} rejects:\n${rejected.join('\n')}`);
    } finally {
      cleanup(dir);
    }
  });
}

for (const release of KUBERNETES_RELEASES) {
  const need = kubeadmNeed(minorOf(release.version));
  testNeeding([need], `a misspelt field is refused with kubeadm ${release.version}'s words (the check can fail)`, async () => {
    const found = siteKubeadm(need);
    assert.ok('path' in found);
    const dir = tempDir();
    try {
      const [init] = await generatedConfigs('misspelt', inventory(release.version, { kubeProxyMode: 'nftables' }), dir);
      writeFileSync(init!.path, readFileSync(init!.path, 'utf8').replace('criSocket:', 'criSockett:'));
      assert.match(kubeadmRejects(found.path, init!.path) ?? '', 'strict decoding error: unknown field "nodeRegistration.criSockett"');
    } finally {
      cleanup(dir);
    }
  });
}

for (const release of KUBERNETES_RELEASES) {
  const need = kubeadmNeed(minorOf(release.version));
  testNeeding([need], `kubeadm ${release.version}'s kube-proxy addon phase reads the last control plane's addon settings, not its join config`, async () => {
    const found = siteKubeadm(need);
    assert.ok('path' in found);
    const dir = tempDir();
    try {
      // The upgrade's last step on the last control plane (a joined one: cp2): kubeadm init phase addon kube-proxy.
      const { hosts } = await compileDoc(inventory(release.version, { kubeProxyMode: 'nftables' }));
      const phase = (file: string) => {
        const path = join(dir, file.replace(/\W+/g, '-'));
        writeFileSync(path, text(hosts, 'cp2', file));
        const env = { ...process.env, KUBEADM_INIT_DRYRUN_DIR: join(dir, 'dry-run') };
        const r = spawnSync(found.path, ['init', 'phase', 'addon', 'kube-proxy', '--dry-run', '--config', path], { encoding: 'utf8', timeout: 60_000, env });
        return `exit ${r.status}: ${r.stderr}`;
      };
      assert.match(
        phase(`rootfs${KUBEADM_CONFIG_PATH}`),
        'no InitConfiguration or ClusterConfiguration kind was found',
        'a join config: what the e2e upgrade hit',
      );
      // Read and accepted: the dry run goes on to want the admin kubeconfig it would apply the addon with.
      const addons = phase(`rootfs${KUBEADM_ADDONS_PATH}`);
      assert.not.match(addons, 'kind was found');
      assert.match(addons, /dry-run\/admin\.conf: no such file or directory/);
    } finally {
      cleanup(dir);
    }
  });
}

test.run();
