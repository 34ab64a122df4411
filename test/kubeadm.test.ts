/**
 * kubeadm-config.yaml against the kubeadm API reference of its version (allowed and required field paths per kind,
 * verified in kubeadm's v1beta3/v1beta4 types.go, bootstraptoken/v1 and kubeproxy v1alpha1), and against the runtime,
 * kubelet and flannel settings of the same bundle.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { parse as parseToml } from 'smol-toml';
import { cleanup, compileDoc, tempDir, testNeeding, text, type InventoryDoc } from './helpers.js';
import { KUBEADM_CONFIG_PATH } from '../src/render/kubeadm.js';
import { FLANNEL_MANIFEST_PATH } from '../src/render/flannel.js';
import { RUNTIME_PATHS } from '../src/render/kubernetes.js';

const rootfs = (path: string) => `rootfs${path}`;
type Doc = Record<string, any>;

// Field paths: `a.b` for objects, `a[]` for list items, `a.*` for free-form string maps. Each list was read from the types.
const BOOTSTRAP_TOKEN = ['token', 'description', 'ttl', 'expires', 'usages[]', 'groups[]'].map((p) => `bootstrapTokens[].${p}`);
const TAINT = ['key', 'value', 'effect', 'timeAdded'].map((p) => `nodeRegistration.taints[].${p}`);
const NODE_REG_COMMON = ['name', 'criSocket', 'taints[]', 'ignorePreflightErrors[]', 'imagePullPolicy'].map((p) => `nodeRegistration.${p}`).concat(TAINT);
const NODE_REG = {
  v1beta3: [...NODE_REG_COMMON, 'nodeRegistration.kubeletExtraArgs.*'],
  v1beta4: [...NODE_REG_COMMON, 'nodeRegistration.kubeletExtraArgs[].name', 'nodeRegistration.kubeletExtraArgs[].value', 'nodeRegistration.imagePullSerial'],
};
const ENDPOINT = (prefix: string) => [`${prefix}.advertiseAddress`, `${prefix}.bindPort`];
const TIMEOUTS = [
  'controlPlaneComponentHealthCheck',
  'kubeletHealthCheck',
  'kubernetesAPICall',
  'etcdAPICall',
  'tlsBootstrap',
  'discovery',
  'upgradeManifests',
].map((p) => `timeouts.${p}`);
const VOLUMES = (c: string) => ['name', 'hostPath', 'mountPath', 'readOnly', 'pathType'].map((p) => `${c}.extraVolumes[].${p}`);
const COMPONENT = {
  v1beta3: (c: string) => [`${c}.extraArgs.*`, ...VOLUMES(c)],
  v1beta4: (c: string) => [`${c}.extraArgs[].name`, `${c}.extraArgs[].value`, `${c}.extraEnvs[].name`, `${c}.extraEnvs[].value`, ...VOLUMES(c)],
};
const EXTERNAL_ETCD = ['endpoints[]', 'caFile', 'certFile', 'keyFile'].map((p) => `etcd.external.${p}`);
const CLUSTER_COMMON = [
  'kubernetesVersion',
  'controlPlaneEndpoint',
  'certificatesDir',
  'imageRepository',
  'featureGates.*',
  'clusterName',
  'networking.serviceSubnet',
  'networking.podSubnet',
  'networking.dnsDomain',
  'apiServer.certSANs[]',
  'dns.imageRepository',
  'dns.imageTag',
  ...EXTERNAL_ETCD,
];
const JOIN_COMMON = [
  'caCertPath',
  'skipPhases[]',
  'patches.directory',
  'discovery.bootstrapToken.token',
  'discovery.bootstrapToken.apiServerEndpoint',
  'discovery.bootstrapToken.caCertHashes[]',
  'discovery.bootstrapToken.unsafeSkipCAVerification',
  'discovery.file.kubeConfigPath',
  'discovery.tlsBootstrapToken',
  'controlPlane.certificateKey',
  ...ENDPOINT('controlPlane.localAPIEndpoint'),
];
const INIT_COMMON = ['certificateKey', 'skipPhases[]', 'patches.directory', ...BOOTSTRAP_TOKEN, ...ENDPOINT('localAPIEndpoint')];
const META = ['apiVersion', 'kind'];

/** Allowed field paths per API version and kind. */
const ALLOWED: Record<string, string[]> = {
  'kubeadm.k8s.io/v1beta3/InitConfiguration': [...META, ...INIT_COMMON, ...NODE_REG.v1beta3],
  'kubeadm.k8s.io/v1beta4/InitConfiguration': [...META, ...INIT_COMMON, ...NODE_REG.v1beta4, 'dryRun', ...TIMEOUTS],
  'kubeadm.k8s.io/v1beta3/ClusterConfiguration': [
    ...META,
    ...CLUSTER_COMMON,
    'apiServer.timeoutForControlPlane',
    ...COMPONENT.v1beta3('apiServer'),
    ...COMPONENT.v1beta3('controllerManager'),
    ...COMPONENT.v1beta3('scheduler'),
  ],
  'kubeadm.k8s.io/v1beta4/ClusterConfiguration': [
    ...META,
    ...CLUSTER_COMMON,
    ...COMPONENT.v1beta4('apiServer'),
    ...COMPONENT.v1beta4('controllerManager'),
    ...COMPONENT.v1beta4('scheduler'),
    'dns.disabled',
    'proxy.disabled',
    'encryptionAlgorithm',
    'certificateValidityPeriod',
    'caCertificateValidityPeriod',
  ],
  'kubeadm.k8s.io/v1beta3/JoinConfiguration': [...META, ...JOIN_COMMON, ...NODE_REG.v1beta3, 'discovery.timeout'],
  'kubeadm.k8s.io/v1beta4/JoinConfiguration': [...META, ...JOIN_COMMON, ...NODE_REG.v1beta4, 'dryRun', ...TIMEOUTS],
  'kubelet.config.k8s.io/v1beta1/KubeletConfiguration': [...META, 'cgroupDriver', 'failCgroupV1', 'evictionHard.*'],
  'kubeproxy.config.k8s.io/v1alpha1/KubeProxyConfiguration': [
    ...META,
    'mode',
    'clusterCIDR',
    'featureGates.*',
    'bindAddress',
    'healthzBindAddress',
    'metricsBindAddress',
    'nodePortAddresses[]',
    ...['syncPeriod', 'minSyncPeriod', 'scheduler', 'excludeCIDRs[]', 'strictARP', 'tcpTimeout', 'tcpFinTimeout', 'udpTimeout'].map((p) => `ipvs.${p}`),
    ...['masqueradeBit', 'masqueradeAll', 'syncPeriod', 'minSyncPeriod'].flatMap((p) => [`iptables.${p}`, `nftables.${p}`]),
  ],
};

/** Required paths per kind (present in every document kubeha writes). */
const REQUIRED: Record<string, string[]> = {
  InitConfiguration: [
    'apiVersion',
    'kind',
    'nodeRegistration.name',
    'nodeRegistration.criSocket',
    'nodeRegistration.taints',
    'localAPIEndpoint.advertiseAddress',
    'localAPIEndpoint.bindPort',
    'bootstrapTokens[].token',
    'bootstrapTokens[].ttl',
  ],
  ClusterConfiguration: [
    'kubernetesVersion',
    'controlPlaneEndpoint',
    'clusterName',
    'imageRepository',
    'networking.podSubnet',
    'networking.serviceSubnet',
    'networking.dnsDomain',
    ...EXTERNAL_ETCD,
    'apiServer.certSANs[]',
  ],
  JoinConfiguration: [
    'nodeRegistration.name',
    'nodeRegistration.criSocket',
    'nodeRegistration.taints',
    'discovery.bootstrapToken.token',
    'discovery.bootstrapToken.apiServerEndpoint',
    'discovery.bootstrapToken.caCertHashes[]',
  ],
  KubeletConfiguration: ['cgroupDriver'],
  KubeProxyConfiguration: ['mode', 'clusterCIDR'],
};

/** Every leaf path of a document; free-form maps (extraArgs in v1beta3, featureGates) collapse to `.*`. */
function pathsOf(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) {
    const here = `${prefix}[]`;
    return value.length === 0 ? [here] : value.flatMap((v) => (typeof v === 'object' && v !== null ? pathsOf(v, here) : [here]));
  }
  if (typeof value === 'object' && value !== null) {
    if (/(^|\.)(kubeletExtraArgs|extraArgs|featureGates|evictionHard)$/.test(prefix)) return [`${prefix}.*`];
    return Object.entries(value).flatMap(([k, v]) => pathsOf(v, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

/** The problems of a document: fields its API version does not have, required fields it lacks. */
function shapeProblems(doc: Doc): string[] {
  const key = `${doc.apiVersion}/${doc.kind}`;
  const allowed = ALLOWED[key];
  if (!allowed) return [`unknown apiVersion/kind ${key}`];
  const paths = pathsOf(doc);
  const present = (p: string) => paths.some((x) => x === p || x.startsWith(`${p}[`) || x.startsWith(`${p}.`));
  return [
    ...paths.filter((p) => !allowed.includes(p)).map((p) => `${key} has no field ${p}`),
    ...(REQUIRED[doc.kind] ?? []).filter((p) => !present(p)).map((p) => `${key} lacks ${p}`),
  ];
}

/** Asserts a document only uses allowed paths and has the required ones. */
function checkShape(doc: Doc, where: string): void {
  assert.equal(shapeProblems(doc), [], `${where}: ${shapeProblems(doc).join('; ')}`);
}

/** A cluster on loopback addresses: three control planes (two load balancers), three etcd members, optional workers. */
function inventory(version: string, opts: { runtime?: string; proxy?: string; workers?: number; dnsName?: string; backend?: string } = {}): InventoryDoc {
  const workers = Array.from({ length: opts.workers ?? 1 }, (_, i) => ({ name: `w${i + 1}`, address: `127.0.2.${i + 1}`, roles: ['worker'] }));
  return {
    cluster: {
      name: 'kubetest',
      kubernetesVersion: version,
      podSubnet: '10.244.0.0/16',
      serviceSubnet: '10.96.0.0/16',
      ...(opts.runtime ? { containerRuntime: opts.runtime } : {}),
      ...(opts.proxy ? { kubeProxyMode: opts.proxy } : {}),
      ...(opts.backend ? { cni: { backend: opts.backend } } : {}),
    },
    loadBalancer: { vip: '127.0.1.100', port: 16443, ...(opts.dnsName ? { dnsName: opts.dnsName } : {}) },
    hosts: [
      { name: 'cp1', address: '127.0.1.1', roles: ['control-plane', 'loadbalancer', 'etcd'] },
      { name: 'cp2', address: '127.0.1.2', roles: ['control-plane', 'loadbalancer', 'etcd'] },
      { name: 'cp3', address: '127.0.1.3', roles: ['control-plane', 'etcd'] },
      ...workers,
    ],
  };
}

/** The combinations every cross-check walks: both API versions, both runtimes, all three proxy modes. */
const CASES = [
  { version: '1.30.6', runtime: 'containerd', proxy: 'ipvs', api: 'kubeadm.k8s.io/v1beta3' },
  { version: '1.30.6', runtime: 'docker', proxy: 'iptables', api: 'kubeadm.k8s.io/v1beta3' },
  { version: '1.34.2', runtime: 'containerd', proxy: 'nftables', api: 'kubeadm.k8s.io/v1beta4' },
  { version: '1.34.2', runtime: 'docker', proxy: 'ipvs', api: 'kubeadm.k8s.io/v1beta4' },
  { version: '1.31.0', runtime: 'containerd', proxy: 'iptables', api: 'kubeadm.k8s.io/v1beta4' },
];

const docsOf = (yaml: string) => loadAll(yaml) as Doc[];
const byKind = (docs: Doc[], kind: string) => docs.find((d) => d.kind === kind)!;

/** The CA hash as the kubeadm docs compute it with openssl. */
function opensslCaHash(caPem: string): string {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'ca.crt'), caPem);
    const out = execFileSync('sh', ['-c', 'openssl x509 -pubkey -noout -in ca.crt | openssl pkey -pubin -outform der | sha256sum'], {
      cwd: dir,
      encoding: 'utf8',
    });
    return 'sha256:' + out.split(/\s+/)[0];
  } finally {
    cleanup(dir);
  }
}

for (const c of CASES) {
  testNeeding(
    ['openssl'],
    `kubeadm-config ${c.version} ${c.runtime} ${c.proxy}: ${c.api} shapes, and agreement with runtime, kubelet, flannel and CA`,
    async () => {
      const { model, secrets, hosts } = await compileDoc(inventory(c.version, { runtime: c.runtime, proxy: c.proxy }));
      assert.is(model.cluster.kubeadmApiVersion, c.api);
      const init = docsOf(text(hosts, 'cp1', rootfs(KUBEADM_CONFIG_PATH)));
      assert.equal(
        init.map((d) => d.kind),
        ['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration', 'KubeProxyConfiguration'],
      );
      for (const d of init) checkShape(d, 'cp1');
      const cluster = byKind(init, 'ClusterConfiguration');
      const initCfg = byKind(init, 'InitConfiguration');
      assert.is(initCfg.apiVersion, c.api);
      assert.is(cluster.kubernetesVersion, `v${c.version}`);
      assert.is(cluster.controlPlaneEndpoint, '127.0.1.100:16443');
      assert.equal(cluster.etcd.external.endpoints, ['https://127.0.1.1:2379', 'https://127.0.1.2:2379', 'https://127.0.1.3:2379']);
      assert.equal(cluster.apiServer.certSANs, ['127.0.1.100', '127.0.1.1', 'cp1', '127.0.1.2', 'cp2', '127.0.1.3', 'cp3']);
      assert.is(initCfg.bootstrapTokens[0].token, secrets.tokens!.bootstrapToken);
      assert.is(initCfg.bootstrapTokens[0].ttl, '24h0m0s', "the schema's default, kubeadm's own");
      assert.equal(initCfg.localAPIEndpoint, { advertiseAddress: '127.0.1.1', bindPort: 6443 });
      const proxy = byKind(init, 'KubeProxyConfiguration');
      assert.is(proxy.mode, c.proxy);
      assert.is(proxy.ipvs !== undefined, c.proxy === 'ipvs', 'ipvs settings only in ipvs mode');
      assert.is(byKind(init, 'KubeletConfiguration').cgroupDriver, 'systemd');

      // Version-specific shapes: extraArgs list vs map, where the timeouts live.
      const v4 = c.api.endsWith('v1beta4');
      const nodeIp = v4 ? initCfg.nodeRegistration.kubeletExtraArgs : initCfg.nodeRegistration.kubeletExtraArgs['node-ip'];
      assert.equal(nodeIp, v4 ? [{ name: 'node-ip', value: '127.0.1.1' }] : '127.0.1.1');
      assert.is(initCfg.timeouts?.controlPlaneComponentHealthCheck, v4 ? '5m0s' : undefined);
      assert.is(cluster.apiServer.timeoutForControlPlane, v4 ? undefined : '5m0s');

      // Flannel Network is the pod subnet kubeadm and kube-proxy use.
      const flannel = docsOf(text(hosts, 'cp1', rootfs(FLANNEL_MANIFEST_PATH)));
      const netConf = JSON.parse(byKind(flannel, 'ConfigMap').data['net-conf.json']);
      assert.is(netConf.Network, cluster.networking.podSubnet);
      assert.is(proxy.clusterCIDR, cluster.networking.podSubnet);

      // Runtime: the CRI socket and the systemd cgroup driver agree with the kubelet.
      const socket = model.cluster.criSocket;
      assert.is(initCfg.nodeRegistration.criSocket, socket);
      if (c.runtime === 'containerd') {
        assert.is(socket, 'unix:///var/run/containerd/containerd.sock');
        const toml = parseToml(text(hosts, 'cp1', rootfs(RUNTIME_PATHS.containerdConfig))) as Doc;
        assert.is(toml.plugins['io.containerd.grpc.v1.cri'].containerd.runtimes.runc.options.SystemdCgroup, true);
      } else {
        assert.is(socket, 'unix:///var/run/cri-dockerd.sock');
        assert.equal(JSON.parse(text(hosts, 'cp1', rootfs(RUNTIME_PATHS.dockerDaemon)))['exec-opts'], ['native.cgroupdriver=systemd']);
        const unit = text(hosts, 'cp1', rootfs(RUNTIME_PATHS.criDockerSocket));
        assert.is(`unix://${unit.match(/^ListenStream=(.*)$/m)![1]!.replace(/^\/run\//, '/var/run/')}`, socket);
      }

      // Joiners: same endpoint, token and the CA hash openssl computes.
      const hash = opensslCaHash(secrets.files.get('ca.crt')!);
      for (const name of ['cp2', 'cp3', 'w1']) {
        const join = docsOf(text(hosts, name, rootfs(KUBEADM_CONFIG_PATH)));
        assert.is(join.length, 1);
        checkShape(join[0]!, name);
        const bt = join[0]!.discovery.bootstrapToken;
        assert.is(bt.apiServerEndpoint, cluster.controlPlaneEndpoint);
        assert.is(bt.token, initCfg.bootstrapTokens[0].token);
        assert.equal(bt.caCertHashes, [hash]);
        assert.is(join[0]!.nodeRegistration.criSocket, socket);
        const address = model.hosts.find((h) => h.name === name)!.address;
        assert.equal(join[0]!.controlPlane?.localAPIEndpoint, name === 'w1' ? undefined : { advertiseAddress: address, bindPort: 6443 });
        assert.is(join[0]!.discovery.timeout, v4 ? undefined : '5m0s');
        assert.is(join[0]!.timeouts?.discovery, v4 ? '5m0s' : undefined);
      }
    },
  );
}

test('taints: [] on control planes without workers; the control-plane taint when workers exist; none on workers', async () => {
  const alone = await compileDoc(inventory('1.34.2', { workers: 0 }));
  for (const name of ['cp1', 'cp2']) {
    const [first] = docsOf(text(alone.hosts, name, rootfs(KUBEADM_CONFIG_PATH)));
    assert.equal(first!.nodeRegistration.taints, []);
  }
  assert.match(text(alone.hosts, 'cp1', rootfs(KUBEADM_CONFIG_PATH)), '\n  taints: []\n');
  const mixed = await compileDoc(inventory('1.30.6', { workers: 2 }));
  const [init] = docsOf(text(mixed.hosts, 'cp1', rootfs(KUBEADM_CONFIG_PATH)));
  assert.equal(init!.nodeRegistration.taints, [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
  assert.equal(docsOf(text(mixed.hosts, 'w2', rootfs(KUBEADM_CONFIG_PATH)))[0]!.nodeRegistration.taints, []);
  const both = await compileDoc({
    ...inventory('1.34.2', { workers: 1 }),
    hosts: [...inventory('1.34.2', { workers: 1 }).hosts.map((h: any) => (h.name === 'cp2' ? { ...h, roles: [...h.roles, 'worker'] } : h))],
  });
  assert.equal(
    docsOf(text(both.hosts, 'cp2', rootfs(KUBEADM_CONFIG_PATH)))[0]!.nodeRegistration.taints,
    [],
    'a control plane that is also a worker takes pods',
  );
  assert.equal(docsOf(text(both.hosts, 'cp1', rootfs(KUBEADM_CONFIG_PATH)))[0]!.nodeRegistration.taints, [
    { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
  ]);
});

test('the endpoint DNS name becomes the control-plane endpoint and a SAN; kubeadm-config is 0600 and only on Kubernetes nodes', async () => {
  const { hosts } = await compileDoc({
    ...inventory('1.34.2', { dnsName: 'api.kubetest.example' }),
    hosts: [...inventory('1.34.2').hosts, { name: 'lb9', address: '127.0.3.1', roles: ['loadbalancer'] }],
  });
  const cluster = byKind(docsOf(text(hosts, 'cp1', rootfs(KUBEADM_CONFIG_PATH))), 'ClusterConfiguration');
  assert.is(cluster.controlPlaneEndpoint, 'api.kubetest.example:16443');
  assert.ok(cluster.apiServer.certSANs.includes('api.kubetest.example'));
  assert.is(hosts.get('cp2')!.get(rootfs(KUBEADM_CONFIG_PATH))!.mode, 0o600);
  assert.is(hosts.get('lb9')!.get(rootfs(KUBEADM_CONFIG_PATH)), undefined);
  assert.is(hosts.get('cp2')!.get(rootfs(FLANNEL_MANIFEST_PATH)), undefined, 'flannel only on the first control plane');
});

test('the shape checker itself rejects what the runbook wrote (kubeProxy in ClusterConfiguration, v1beta3 timeout in v1beta4)', () => {
  const runbook = shapeProblems({
    apiVersion: 'kubeadm.k8s.io/v1beta3',
    kind: 'ClusterConfiguration',
    kubernetesVersion: 'v1.22.0',
    kubeProxy: { config: { mode: 'ipvs' } },
  });
  assert.ok(runbook.includes('kubeadm.k8s.io/v1beta3/ClusterConfiguration has no field kubeProxy.config.mode'), runbook.join('; '));
  assert.ok(runbook.includes('kubeadm.k8s.io/v1beta3/ClusterConfiguration lacks etcd.external.endpoints[]'));
  const moved = shapeProblems({ apiVersion: 'kubeadm.k8s.io/v1beta4', kind: 'ClusterConfiguration', apiServer: { timeoutForControlPlane: '4m0s' } });
  assert.ok(moved.includes('kubeadm.k8s.io/v1beta4/ClusterConfiguration has no field apiServer.timeoutForControlPlane'));
  const v3args = shapeProblems({
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'JoinConfiguration',
    discovery: { timeout: '5m' },
    nodeRegistration: { kubeletExtraArgs: { 'node-ip': '1.2.3.4' } },
  });
  assert.ok(v3args.includes('kubeadm.k8s.io/v1beta4/JoinConfiguration has no field discovery.timeout'));
  assert.ok(v3args.includes('kubeadm.k8s.io/v1beta4/JoinConfiguration has no field nodeRegistration.kubeletExtraArgs.*'));
});

test.run();
