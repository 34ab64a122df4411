/**
 * addons.kubePrometheus (second part): the release matrix and its inventory rules, kubeha's monitors checked against
 * the pinned releases' CRD schemas, kube-proxy's metrics address and filter, haproxy's exporter (haproxy -c, and live).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv';
import { loadAll } from 'js-yaml';
import { Endpoints } from 'kubernetes-models/v1/Endpoints';
import { Service } from 'kubernetes-models/v1/Service';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KUBE_PROMETHEUS_IMAGES } from '../src/common/kube-prometheus-images.js';
import { defaultKubePrometheusFor, isCompatibleKubePrometheus, KUBE_PROMETHEUS_RELEASES } from '../src/common/kube-prometheus-releases.js';
import { SUPPORTED_MINORS } from '../src/common/versions.js';
import { KUBE_PROXY_METRICS_FILTER_PATHS, KUBE_PROXY_METRICS_TABLE } from '../src/render/kube-proxy-metrics.js';
import { KUBE_PROMETHEUS_OBJECTS_PATH } from '../src/render/kube-prometheus.js';
import { KUBE_PROMETHEUS_MONITORS_PATH } from '../src/render/kube-prometheus-monitors.js';
import { LB_PATHS } from '../src/render/loadbalancer.js';
import { mirrorList } from '../src/render/mirror-list.js';
import { firewallOpenings } from '../src/render/os.js';
import { cleanup, compileDoc, FIXTURES, modelOf, NAMESPACES, runCli, tempDir, testNeeding, text, type InventoryDoc } from './helpers.js';
import { addNamespace, deleteNamespace, must, nsName, sh, startDaemon, stopDaemon, waitUntil, type Daemon } from './netns.js';
import { verifyUnits } from './systemd.js';

const Ajv = AjvModule.default;
const SHA = 'ab'.repeat(32);
const rootfs = (path: string) => `rootfs${path}`;

/** Two control planes that are load balancers, a worker and three etcd members; the addon on unless `addon` says otherwise. */
function cluster(addon: Record<string, unknown> = { enabled: true, sha256: SHA }, more: InventoryDoc = {}): InventoryDoc {
  return {
    cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16' },
    loadBalancer: { vip: '127.0.53.100' },
    addons: { kubePrometheus: addon },
    hosts: [
      { name: 'cp1', address: '127.0.53.1', roles: ['control-plane', 'loadbalancer'] },
      { name: 'cp2', address: '127.0.53.2', roles: ['control-plane', 'loadbalancer'] },
      { name: 'w1', address: '127.0.53.3', roles: ['worker'] },
      ...[1, 2, 3].map((i) => ({ name: `e${i}`, address: `127.0.53.${10 + i}`, roles: ['etcd'] })),
    ],
    ...more,
  };
}

/** The problems modelOf reports for an inventory ('' when it is accepted). */
function problems(doc: InventoryDoc): string {
  try {
    modelOf(doc);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

test('every Kubernetes minor up to 1.36 gets a release whose compatibility table lists it, 1.37 none; the pins', () => {
  for (let minor = SUPPORTED_MINORS.oldest; minor <= 36; minor++) {
    const version = defaultKubePrometheusFor(minor);
    assert.ok(version && isCompatibleKubePrometheus(version, minor), `1.${minor}: ${version}`);
  }
  // v0.18.0's README (and main's at 4d719f1d) lists 1.32-1.36: no release supports 1.37, so the addon is refused there.
  assert.is(defaultKubePrometheusFor(37), undefined);
  assert.match(
    problems(cluster(undefined, { cluster: { kubernetesVersion: '1.37.2', podSubnet: '10.244.0.0/16' } })),
    'inventory.json /cluster/kubernetesVersion: no kube-prometheus release kubeha knows supports Kubernetes 1.37 (the compatibility table of the newest, 0.18.0, lists 1.33, 1.34, 1.35, 1.36): turn addons.kubePrometheus off',
  );
  assert.match(
    problems(cluster({ enabled: true, sha256: SHA, version: '0.18.0' }, { cluster: { kubernetesVersion: '1.37.2', podSubnet: '10.244.0.0/16' } })),
    'inventory.json /addons/kubePrometheus/version: kube-prometheus 0.18.0 does not support Kubernetes 1.37.2 (its compatibility table lists 1.33, 1.34, 1.35, 1.36): turn addons.kubePrometheus off',
  );
  assert.equal([24, 25, 26, 30, 31, 32, 33, 36].map(defaultKubePrometheusFor), [
    '0.12.0',
    '0.12.0',
    '0.14.0',
    '0.14.0',
    '0.15.0',
    '0.16.0',
    '0.18.0',
    '0.18.0',
  ]);
  assert.not.ok(isCompatibleKubePrometheus('0.16.0', 31), "release-0.16 left 1.31 in later READMEs' tables");
});

test('rules: an incompatible or unknown release and a missing checksum are refused with their JSON paths; off needs neither', () => {
  assert.match(
    problems(cluster({ enabled: true, sha256: SHA, version: '0.12.0' })),
    'inventory.json /addons/kubePrometheus/version: kube-prometheus 0.12.0 does not support Kubernetes 1.34.2 (its compatibility table lists 1.24, 1.25): use one of 0.16.0, 0.17.0, 0.18.0',
  );
  assert.match(
    problems(cluster({ enabled: true, sha256: SHA, version: '0.11.0' })),
    '/addons/kubePrometheus/version: kubeha knows no kube-prometheus release 0.11.0',
  );
  assert.match(
    problems(cluster({ enabled: true })),
    '/addons/kubePrometheus: must have sha256 when enabled: GitHub publishes no checksum of https://github.com/prometheus-operator/kube-prometheus/archive/refs/tags/v0.18.0.tar.gz; get it with curl -fsSL',
  );
  assert.match(
    problems(cluster({ enabled: true, sha256: 'ABC' })),
    '/addons/kubePrometheus/sha256: must be a SHA-256 checksum: 64 lowercase hexadecimal digits',
  );
  assert.match(problems(cluster({ enabled: true, sha256: SHA, version: 'v0.18.0' })), '/addons/kubePrometheus/version: must match pattern');
  assert.is(problems(cluster({ enabled: true, sha256: SHA, version: '0.16.0' })), '');
  assert.is(problems(cluster({ enabled: false })), '');
  assert.is(problems(cluster({ enabled: false, version: '0.12.0' })), '', 'an unused version is not checked');
});

test("rules: haproxy's metrics port is checked against the other ports of a load balancer, only with the addon", () => {
  // haproxy's frontend binds every address; its stats page binds 127.0.0.1 and its metrics the host's address, so
  // stats and metrics may share a port number (two sockets: haproxy serves both).
  const lb = { vip: '127.0.53.100', port: 8405 };
  assert.match(
    problems(cluster(undefined, { loadBalancer: lb })),
    '/loadBalancer/metricsPort: port 8405 is used by both haproxy and haproxy metrics on host "cp1"',
  );
  assert.is(problems(cluster({ enabled: false }, { loadBalancer: lb })), '');
  assert.is(problems(cluster(undefined, { loadBalancer: { vip: '127.0.53.100', stats: { enabled: true, port: 8405 } } })), '');
});

test('gen validate exits 1 naming the file and the path of an incompatible pair', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'inventory.json');
    writeFileSync(path, JSON.stringify(cluster({ enabled: true, sha256: SHA, version: '0.14.0' })));
    const r = await runCli(['validate', path]);
    assert.is(r.code, 1);
    assert.match(r.err, `${path} /addons/kubePrometheus/version: kube-prometheus 0.14.0 does not support Kubernetes 1.34.2`);
  } finally {
    cleanup(dir);
  }
});

test("gen artifacts lists the tarball through mirrors.files with the inventory's SHA-256, and the release's images; nothing when off", () => {
  const model = modelOf(cluster(undefined, { mirrors: { files: 'https://files.example.com/mirror' } }));
  const list = mirrorList(model);
  assert.equal(
    list.downloads.filter((d) => d.what.startsWith('kube-prometheus')).map((d) => [d.url, d.sha256]),
    [['https://files.example.com/mirror/github.com/prometheus-operator/kube-prometheus/archive/refs/tags/v0.18.0.tar.gz', SHA]],
  );
  const images = list.images.filter((i) => i.name === 'kube-prometheus');
  assert.ok(images.some((i) => i.image === 'quay.io/prometheus/prometheus:v3.12.0'));
  assert.ok(images.some((i) => i.image === 'grafana/grafana:13.0.2' && i.upstream === 'docker.io/grafana/grafana:13.0.2'));
  for (const r of KUBE_PROMETHEUS_RELEASES) assert.ok((KUBE_PROMETHEUS_IMAGES[r.version] ?? []).length >= 10, `images of ${r.version}`);
  const off = mirrorList(modelOf(cluster({ enabled: false })));
  assert.not.ok(off.downloads.some((d) => d.what.startsWith('kube-prometheus')) || off.images.some((i) => i.name === 'kube-prometheus'));
});

/**
 * A structural schema with unknown fields refused: the API server prunes them silently, so a misspelt field would
 * vanish instead of failing (objects whose schema lists no properties, or preserves unknown fields, stay open).
 */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, closed(v)]));
  if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}

/** Validates a custom resource against the openAPIV3Schema of its CRD in a pinned release (test/fixtures/kube-prometheus). */
function crdValidator(release: string, kind: string) {
  const crd = JSON.parse(readFileSync(join(FIXTURES, 'kube-prometheus', `${release}-${kind.toLowerCase()}.json`), 'utf8')) as {
    openAPIV3Schema: object;
    group: string;
    version: string;
  };
  // Kubernetes' structural schemas: x-kubernetes-* keywords and int32/int64 formats are not JSON Schema's.
  const validate = new Ajv({ strict: false, validateFormats: false, allErrors: true }).compile(closed(crd.openAPIV3Schema) as object);
  return (doc: unknown) => (validate(doc) ? '' : JSON.stringify(validate.errors));
}

test('the monitors validate against the ServiceMonitor and PodMonitor CRDs of the oldest and newest pinned releases', async () => {
  const { hosts } = await compileDoc(cluster());
  const docs = loadAll(text(hosts, 'cp1', rootfs(KUBE_PROMETHEUS_MONITORS_PATH))) as any[];
  assert.equal(
    docs.map((d) => `${d.kind} ${d.metadata.namespace}/${d.metadata.name}`),
    ['ServiceMonitor monitoring/etcd', 'PodMonitor monitoring/kube-proxy', 'ServiceMonitor monitoring/haproxy'],
  );
  for (const release of ['v0.12.0', 'v0.18.0']) {
    for (const doc of docs) {
      assert.is(doc.apiVersion, 'monitoring.coreos.com/v1');
      assert.is(crdValidator(release, doc.kind)(doc), '', `${release} ${doc.kind} ${doc.metadata.name}`);
    }
  }
  // The checker is real: a port number where the CRD wants a port name is refused.
  const broken = { ...docs[0], spec: { ...docs[0].spec, endpoints: [{ port: 2381 }] } };
  assert.match(crdValidator('v0.18.0', 'ServiceMonitor')(broken), 'must be string');
  const misspelt = { ...docs[1], spec: { ...docs[1].spec, podMetricsEndpoints: [{ ...docs[1].spec.podMetricsEndpoints[0], honourLabels: true }] } };
  assert.match(crdValidator('v0.12.0', 'PodMonitor')(misspelt), 'must NOT have additional properties', 'a field the API server would prune is refused');
  assert.not.ok(hosts.get('cp2')!.has(rootfs(KUBE_PROMETHEUS_MONITORS_PATH)), 'only on the first control plane');
});

test("every ServiceMonitor selects a kube-system Service with its port name; haproxy's Service and Endpoints validate", async () => {
  const { model, hosts } = await compileDoc(cluster());
  const objects = loadAll(text(hosts, 'cp1', rootfs(KUBE_PROMETHEUS_OBJECTS_PATH))) as any[];
  const monitors = (loadAll(text(hosts, 'cp1', rootfs(KUBE_PROMETHEUS_MONITORS_PATH))) as any[]).filter((d) => d.kind === 'ServiceMonitor');
  for (const m of monitors) {
    const services = objects.filter(
      (o) =>
        o.kind === 'Service' &&
        o.metadata.namespace === m.spec.namespaceSelector.matchNames[0] &&
        Object.entries(m.spec.selector.matchLabels).every(([k, v]) => o.metadata.labels[k] === v),
    );
    assert.is(services.length, 1, m.metadata.name);
    assert.ok(
      services[0].spec.ports.some((p: any) => p.name === m.spec.endpoints[0].port),
      `${m.metadata.name}: port ${m.spec.endpoints[0].port}`,
    );
  }
  const haproxy = objects.filter((o) => o.metadata.name === 'kubeha-haproxy');
  assert.equal(
    haproxy.map((o) => o.kind),
    ['Service', 'Endpoints'],
  );
  new Service(haproxy[0]).validate();
  new Endpoints(haproxy[1]).validate();
  assert.equal(haproxy[1].subsets[0].addresses, [{ ip: '127.0.53.1' }, { ip: '127.0.53.2' }]);
  assert.is(haproxy[1].subsets[0].ports[0].port, model.loadBalancer!.metricsPort);
  const noLb = await compileDoc({
    ...cluster(),
    loadBalancer: undefined,
    hosts: cluster()
      .hosts.filter((h: any) => h.name !== 'cp2')
      .map((h: any) => ({ ...h, roles: h.roles.filter((r: string) => r !== 'loadbalancer') })),
  });
  assert.not.match(text(noLb.hosts, 'cp1', rootfs(KUBE_PROMETHEUS_MONITORS_PATH)), 'haproxy', 'no load balancer, no haproxy monitor');
});

test('kube-proxy: metricsBindAddress on every address with the addon, its default without; a filter and a firewall opening on every node', async () => {
  const proxyConfig = async (doc: InventoryDoc) =>
    (loadAll(text((await compileDoc(doc)).hosts, 'cp1', 'rootfs/etc/kubernetes/kubeadm-config.yaml')) as any[]).find(
      (d) => d.kind === 'KubeProxyConfiguration',
    );
  assert.is((await proxyConfig(cluster())).metricsBindAddress, '0.0.0.0:10249');
  assert.is((await proxyConfig(cluster({ enabled: false }))).metricsBindAddress, undefined);
  const { model, hosts } = await compileDoc(cluster());
  for (const host of model.hosts) {
    assert.is(hosts.get(host.name)!.has(rootfs(KUBE_PROXY_METRICS_FILTER_PATHS.rules)), host.isKubernetesNode, host.name);
    assert.is(
      firewallOpenings(model, host).some((o) => o.port === '10249'),
      host.isKubernetesNode,
      host.name,
    );
  }
  const rules = text(hosts, 'w1', rootfs(KUBE_PROXY_METRICS_FILTER_PATHS.rules));
  assert.match(rules, 'elements = { 10.244.0.0/16, 127.0.0.1, 127.0.53.0/24 }');
  assert.match(rules, 'tcp dport 10249 ip saddr != @allowed drop');
  assert.match(text(hosts, 'w1', rootfs(KUBE_PROXY_METRICS_FILTER_PATHS.unit)), 'Before=kubelet.service');
  const script = text(hosts, 'w1', 'run.sh');
  assert.ok(
    script.indexOf('run systemctl restart kubeha-kube-proxy-metrics-filter.service') < script.indexOf('phase_kubeadm()'),
    'loaded before kubeadm starts kube-proxy',
  );
  const off = await compileDoc(cluster({ enabled: false }));
  assert.not.ok(off.hosts.get('w1')!.has(rootfs(KUBE_PROXY_METRICS_FILTER_PATHS.rules)));
});

testNeeding(['nft', 'systemd-analyze', NAMESPACES], 'nft -c accepts the kube-proxy filter and systemd-analyze verify prints nothing for its unit', async () => {
  const { hosts } = await compileDoc(cluster());
  const dir = tempDir();
  try {
    const rules = text(hosts, 'cp2', rootfs(KUBE_PROXY_METRICS_FILTER_PATHS.rules));
    const check = (content: string) => {
      writeFileSync(join(dir, 'rules.nft'), content);
      return sh(['unshare', '-n', 'nft', '-c', '-f', join(dir, 'rules.nft')]);
    };
    assert.is(check(rules).status, 0, check(rules).out);
    assert.is.not(check(rules.replace('@allowed drop', '@alowed drop')).status, 0, 'the checker is real');
    assert.match(rules, `table ip ${KUBE_PROXY_METRICS_TABLE} {`);
    assert.is(verifyUnits({ 'kubeha-kube-proxy-metrics-filter.service': text(hosts, 'cp2', rootfs(KUBE_PROXY_METRICS_FILTER_PATHS.unit)) }, dir), '');
  } finally {
    cleanup(dir);
  }
});

testNeeding(
  ['nft', 'curl', NAMESPACES],
  "live: the kube-proxy filter lets the cluster's hosts and 127.0.0.1 reach port 10249 and drops anyone else",
  async () => {
    const ns = nsName('kpx');
    const inNs = (...args: string[]) => ['ip', 'netns', 'exec', ns, ...args];
    const dir = tempDir();
    let listener: Daemon | null = null;
    try {
      addNamespace(ns);
      const stranger = '127.0.99.9';
      for (const address of ['127.0.53.1', '127.0.53.3', stranger]) must(inNs('ip', 'addr', 'add', `${address}/32`, 'dev', 'lo'));
      const { hosts } = await compileDoc(cluster());
      writeFileSync(join(dir, 'rules.nft'), text(hosts, 'w1', rootfs(KUBE_PROXY_METRICS_FILTER_PATHS.rules)));
      // kube-proxy's metrics server stands in: plain HTTP on every address, as metricsBindAddress 0.0.0.0:10249 makes it.
      const serve = "require('http').createServer((q, s) => s.end('kubeproxy_sync_proxy_rules_last_timestamp_seconds 1\\n')).listen(10249, '0.0.0.0')";
      listener = startDaemon('kube-proxy', inNs(process.execPath, '-e', serve), join(dir, 'listener.log'));
      const get = (from: string) => sh(inNs('curl', '-s', '--max-time', '2', '--interface', from, 'http://127.0.53.3:10249/metrics'));
      await waitUntil('the stand-in to listen', () => get(stranger).status === 0, 10_000);
      must(inNs('nft', '-f', join(dir, 'rules.nft')));
      for (const from of ['127.0.53.1', '127.0.0.1']) assert.match(get(from).out, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds 1', from);
      assert.is(get(stranger).status, 28, 'dropped (curl 28: timed out), where it was served before the filter was loaded');
    } finally {
      if (listener) await stopDaemon(listener, 'SIGKILL');
      deleteNamespace(ns);
      cleanup(dir);
    }
  },
);

test("haproxy.cfg: the exporter on the host's own address and metricsPort, for the cluster's hosts and pods only; none without the addon", async () => {
  const { hosts } = await compileDoc(cluster(undefined, { loadBalancer: { vip: '127.0.53.100', metricsPort: 9101 } }));
  const cfg = text(hosts, 'cp2', rootfs(LB_PATHS.haproxy));
  const frontend = cfg.slice(cfg.indexOf('frontend prometheus'));
  assert.match(frontend, '\n  bind 127.0.53.2:9101\n');
  // The hosts and the pod network as CIDR blocks, in address order (test/metrics-acl.test.ts: any number of hosts).
  assert.match(frontend, '\n  acl cluster_sources src 10.244.0.0/16 127.0.53.0/24\n');
  assert.match(
    frontend,
    '\n  http-request deny unless cluster_sources\n  http-request use-service prometheus-exporter if { path /metrics }\n  http-request deny\n.endif\n',
  );
  assert.match(cfg, '.if feature(PROMEX)\nfrontend prometheus\n', 'only where haproxy has the exporter');
  assert.match(text(hosts, 'cp2', 'run.sh'), "if have haproxy && ! haproxy -cc 'feature(PROMEX)' >/dev/null 2>&1; then");
  const { model } = await compileDoc(cluster(undefined, { loadBalancer: { vip: '127.0.53.100', metricsPort: 9101 } }));
  assert.ok(
    firewallOpenings(model, model.hosts[1]!).some((o) => o.port === '9101'),
    'the firewall opens it',
  );
  const off = await compileDoc(cluster({ enabled: false }));
  assert.not.match(text(off.hosts, 'cp2', rootfs(LB_PATHS.haproxy)), 'prometheus');
});

testNeeding(['haproxy'], 'haproxy -c accepts haproxy.cfg with the exporter, without warnings, and rejects an unknown service', async () => {
  const { hosts } = await compileDoc(cluster());
  const dir = tempDir();
  try {
    const cfg = text(hosts, 'cp1', rootfs(LB_PATHS.haproxy));
    writeFileSync(join(dir, 'haproxy.cfg'), cfg);
    const r = sh(['haproxy', '-c', '-f', join(dir, 'haproxy.cfg')]);
    assert.is(r.status, 0, r.out);
    assert.not.match(r.out, /WARNING|ALERT/, r.out);
    writeFileSync(join(dir, 'broken.cfg'), cfg.replace('use-service prometheus-exporter', 'use-service prometheus-exportr'));
    assert.is.not(sh(['haproxy', '-c', '-f', join(dir, 'broken.cfg')]).status, 0, 'the checker is real');
    // A build without the exporter skips the frontend (.if feature(PROMEX)) instead of rejecting the whole file.
    writeFileSync(
      join(dir, 'without.cfg'),
      cfg.replace('.if feature(PROMEX)', '.if feature(NO_SUCH_FEATURE)').replace('use-service prometheus-exporter', 'use-service prometheus-exportr'),
    );
    assert.is(sh(['haproxy', '-c', '-f', join(dir, 'without.cfg')]).status, 0, 'the guarded frontend is skipped');
    assert.is(sh(['haproxy', '-cc', 'feature(PROMEX)']).status, 0, "this machine's haproxy has the exporter, as run.sh checks it");
  } finally {
    cleanup(dir);
  }
});

testNeeding(
  ['haproxy', 'curl', NAMESPACES],
  'live: haproxy serves Prometheus text at /metrics to a cluster host, 403 to another source and to other paths',
  async () => {
    const ns = nsName('hpx');
    const inNs = (...args: string[]) => ['ip', 'netns', 'exec', ns, ...args];
    const dir = tempDir();
    let haproxy: Daemon | null = null;
    try {
      addNamespace(ns);
      const outsider = '127.0.99.9';
      for (const address of ['127.0.53.1', '127.0.53.3', outsider]) must(inNs('ip', 'addr', 'add', `${address}/32`, 'dev', 'lo'));
      const { model, hosts } = await compileDoc(cluster());
      writeFileSync(join(dir, 'haproxy.cfg'), text(hosts, 'cp1', rootfs(LB_PATHS.haproxy)));
      haproxy = startDaemon('haproxy', inNs('haproxy', '-db', '-f', join(dir, 'haproxy.cfg')), join(dir, 'haproxy.log'));
      const url = (path: string) => `http://127.0.53.1:${model.loadBalancer!.metricsPort}${path}`;
      const get = (from: string, path: string) => sh(inNs('curl', '-s', '--max-time', '2', '--interface', from, '-w', '\n%{http_code}', url(path)));
      await waitUntil('haproxy to answer on its metrics port', () => get('127.0.53.3', '/metrics').out.endsWith('\n200'), 10_000);
      const scrape = get('127.0.53.3', '/metrics').out;
      assert.match(scrape, /^# HELP haproxy_process_/m, 'Prometheus text format');
      assert.match(scrape, /^haproxy_frontend_http_requests_total\{proxy="prometheus"\} [0-9]+/m);
      assert.ok(get(outsider, '/metrics').out.endsWith('\n403'), 'a source outside the cluster is refused');
      assert.ok(get('127.0.53.3', '/stats').out.endsWith('\n403'), 'other paths are refused');
    } finally {
      if (haproxy) await stopDaemon(haproxy, 'SIGKILL');
      deleteNamespace(ns);
      cleanup(dir);
    }
  },
);

test.run();
