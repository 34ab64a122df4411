/** addons.kubePrometheus (first part): etcd metrics on a port of their own kept to the cluster, and the kube-system objects kube-prometheus needs. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { Endpoints } from 'kubernetes-models/v1/Endpoints';
import { Service } from 'kubernetes-models/v1/Service';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ETCD_UNIT_PATH } from '../src/render/etcd.js';
import { ETCD_METRICS_FILTER_PATHS, ETCD_METRICS_TABLE } from '../src/render/etcd-metrics.js';
import { KUBE_PROMETHEUS_OBJECTS_PATH } from '../src/render/kube-prometheus.js';
import { backupCluster } from './etcd-backup-cluster.js';
import { execStartOf, flagValue } from './etcd-live.js';
import { cleanup, compileDoc, modelOf, tempDir, text, type InventoryDoc, NAMESPACES, testNeeding } from './helpers.js';
import { verifyUnits } from './systemd.js';

const rootfs = (path: string) => `rootfs${path}`;
const withAddon = (etcd: Record<string, unknown> = {}): InventoryDoc => ({
  ...backupCluster({ install: 'distro', ...etcd }),
  addons: { kubePrometheus: { enabled: true, sha256: '0'.repeat(64) } },
});
const FILES = [ETCD_METRICS_FILTER_PATHS.rules, ETCD_METRICS_FILTER_PATHS.unit];

test('off by default: no metrics flag, no filter, no objects, no step', async () => {
  const { model, hosts } = await compileDoc(backupCluster());
  assert.is(model.addons.kubePrometheus.enabled, false);
  for (const host of model.hosts) {
    for (const path of [...FILES, KUBE_PROMETHEUS_OBJECTS_PATH]) assert.not.ok(hosts.get(host.name)!.has(rootfs(path)), `${host.name} ${path}`);
    assert.not.match(text(hosts, host.name, 'run.sh'), /kube-prometheus|etcd-metrics|listen-metrics/);
  }
  assert.not.match(text(hosts, 'm1', rootfs(ETCD_UNIT_PATH)), 'listen-metrics-urls');
});

test('on: every member serves metrics on its own address and etcd.metricsPort, behind a filter loaded before etcd starts', async () => {
  const { model, hosts } = await compileDoc(withAddon({ metricsPort: 12381 }));
  for (const member of model.etcd.members) {
    const { argv } = execStartOf(text(hosts, member.name, rootfs(ETCD_UNIT_PATH)));
    assert.is(flagValue(argv, 'listen-metrics-urls'), `http://${member.address}:12381`);
    const rules = text(hosts, member.name, rootfs(ETCD_METRICS_FILTER_PATHS.rules));
    // The hosts and the pod network as CIDR blocks, in address order.
    assert.match(rules, 'elements = { 10.244.0.0/16, 127.0.1.0/24, 127.0.2.0/24 }');
    assert.match(rules, 'tcp dport 12381 ip saddr != @allowed drop');
    const script = text(hosts, member.name, 'run.sh');
    assert.match(script, 'if ! have nft; then pkg_install nftables; fi');
    assert.ok(
      script.indexOf('run systemctl restart kubeha-etcd-metrics-filter.service') < script.indexOf('# start etcd and wait until the member is healthy'),
      'the filter is loaded before etcd starts',
    );
    assert.match(script, /install_file 0644 \/etc\/kubeha\/etcd-metrics\.nft/);
  }
  assert.not.ok(hosts.get('cp1')!.has(rootfs(ETCD_METRICS_FILTER_PATHS.rules)));
  // The metrics port takes part in the port collision rule.
  assert.throws(() => modelOf(withAddon({ metricsPort: 2380 })), /\/etcd\/metricsPort/);
});

test('kube-controller-manager and kube-scheduler bind every address with the addon (v1beta4 list, v1beta3 map), 127.0.0.1 without', async () => {
  const clusterConfig = async (doc: Record<string, any>) => {
    const { hosts } = await compileDoc(doc);
    return (loadAll(text(hosts, 'cp1', 'rootfs/etc/kubernetes/kubeadm-config.yaml')) as any[]).find((d) => d.kind === 'ClusterConfiguration');
  };
  const v4 = await clusterConfig(withAddon());
  for (const component of ['controllerManager', 'scheduler'])
    assert.equal(v4[component], { extraArgs: [{ name: 'bind-address', value: '0.0.0.0' }] }, component);
  const old = withAddon();
  old.cluster = { ...old.cluster, kubernetesVersion: '1.30.6' };
  const v3 = await clusterConfig(old);
  assert.is(v3.apiVersion, 'kubeadm.k8s.io/v1beta3');
  for (const component of ['controllerManager', 'scheduler']) assert.equal(v3[component], { extraArgs: { 'bind-address': '0.0.0.0' } }, component);
  const off = await clusterConfig(backupCluster());
  assert.is(off.controllerManager, undefined);
  assert.is(off.scheduler, undefined);
});

test('the kube-system objects validate with kubernetes-models and carry the labels and port names kube-prometheus selects', async () => {
  const { hosts } = await compileDoc(withAddon());
  assert.not.ok(hosts.get('m1')!.has(rootfs(KUBE_PROMETHEUS_OBJECTS_PATH)), 'only on the first control plane');
  const docs = loadAll(text(hosts, 'cp1', rootfs(KUBE_PROMETHEUS_OBJECTS_PATH))) as any[];
  const models: Record<string, new (data: any) => { validate(): void }> = { Service, Endpoints };
  for (const doc of docs) new models[doc.kind]!(doc).validate();
  assert.equal(
    docs.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`),
    ['Service kube-system/kube-controller-manager', 'Service kube-system/kube-scheduler', 'Service kube-system/etcd', 'Endpoints kube-system/etcd'],
  );
  for (const [i, [name, port]] of (
    [
      ['kube-controller-manager', 10257],
      ['kube-scheduler', 10259],
    ] as const
  ).entries()) {
    assert.equal(docs[i].metadata.labels, { 'app.kubernetes.io/name': name });
    assert.equal(docs[i].spec.selector, { component: name }, 'the label kubeadm puts on its static pods');
    assert.equal(docs[i].spec.ports, [{ name: 'https-metrics', port, targetPort: port, protocol: 'TCP' }]);
  }
  const [, , service, endpoints] = docs;
  assert.is(service.spec.selector, undefined, "etcd is no pod: the Endpoints are kubeha's");
  assert.is(service.spec.ports[0].name, endpoints.subsets[0].ports[0].name);
  assert.equal(endpoints.subsets[0].addresses, [{ ip: '127.0.1.1' }, { ip: '127.0.1.2' }, { ip: '127.0.1.3' }]);
  assert.is(endpoints.subsets[0].ports[0].port, 2381, "etcd's --listen-metrics-urls port, the schema's default");
  // The checker is real: a port name kubernetes-models refuses is reported.
  assert.throws(() => new Endpoints({ ...endpoints, subsets: [{ ...endpoints.subsets[0], ports: [{ port: 'x' }] }] }).validate());
  assert.match(text(hosts, 'cp1', 'run.sh'), `apply --server-side --field-manager=kubeha -f ${KUBE_PROMETHEUS_OBJECTS_PATH}`);
});

testNeeding(['nft', 'systemd-analyze', NAMESPACES], 'nft -c accepts the filter and systemd-analyze verify prints nothing for its unit', async () => {
  const { hosts } = await compileDoc(withAddon());
  const dir = tempDir();
  try {
    const rules = join(dir, 'etcd-metrics.nft');
    writeFileSync(rules, text(hosts, 'm2', rootfs(ETCD_METRICS_FILTER_PATHS.rules)));
    const check = (file: string) => spawnSync('unshare', ['-n', 'nft', '-c', '-f', file], { encoding: 'utf8' });
    const ok = check(rules);
    assert.is(ok.status, 0, ok.stderr);
    writeFileSync(join(dir, 'broken.nft'), text(hosts, 'm2', rootfs(ETCD_METRICS_FILTER_PATHS.rules)).replace('!= @allowed', '!= @allowd'));
    assert.is.not(check(join(dir, 'broken.nft')).status, 0, 'the checker is real');
    assert.is(verifyUnits({ 'kubeha-etcd-metrics-filter.service': text(hosts, 'm2', rootfs(ETCD_METRICS_FILTER_PATHS.unit)) }, dir), '');
    assert.match(text(hosts, 'm2', rootfs(ETCD_METRICS_FILTER_PATHS.rules)), `table ip ${ETCD_METRICS_TABLE} {`);
  } finally {
    cleanup(dir);
  }
});

testNeeding(['shellcheck'], 'run.sh of a member and of the first control plane stay shellcheck-clean with the addon on', async () => {
  const { hosts } = await compileDoc(withAddon());
  const dir = tempDir();
  try {
    const files = ['m1', 'cp1'].map((h) => {
      const path = join(dir, `${h}.sh`);
      writeFileSync(path, text(hosts, h, 'run.sh'));
      return path;
    });
    const sc = spawnSync('shellcheck', ['-S', 'warning', ...files], { encoding: 'utf8' });
    assert.is(sc.status, 0, sc.stdout);
  } finally {
    cleanup(dir);
  }
});

test.run();
