/**
 * run.sh's kube-prometheus install on the first control plane, in the namespace sandbox with real curl, sha256sum and
 * tar: a release-shaped tarball served over HTTP through mirrors.files, stub kubectl logging every call.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CRD_WAIT_SECONDS, KUBE_PROMETHEUS_DIR, KUBE_PROMETHEUS_SUM_PATH } from '../src/render/kube-prometheus-install.js';
import { KUBE_PROMETHEUS_MONITORS_PATH } from '../src/render/kube-prometheus-monitors.js';
import { KUBE_PROMETHEUS_IMAGES_SED } from '../src/render/kube-prometheus-images.js';
import { mirrorList } from '../src/render/mirror-list.js';
import { cleanup, compileDoc, generateAndUnpack, NAMESPACES, tempDir, testNeeding, text, type InventoryDoc } from './helpers.js';
import { runInSandbox, type NodeState } from './sandbox.js';

const CP1 = '127.0.55.1';
const PORT = 18481;
const VERSION = '0.18.0';
const TARBALL_PATH = `/github.com/prometheus-operator/kube-prometheus/archive/refs/tags/v${VERSION}.tar.gz`;
const ADDON_FILES = ['/etc/kubernetes/addons/kube-prometheus-kubeadm.yaml', KUBE_PROMETHEUS_SUM_PATH, KUBE_PROMETHEUS_MONITORS_PATH];
const CRDS = ['0alertmanagerCustomResourceDefinition.yaml', '0servicemonitorCustomResourceDefinition.yaml'];

/** A tarball laid out like GitHub's archive of the release tag: kube-prometheus-X.Y.Z/ with manifests/ and more. */
function releaseTarball(dir: string, manifests: Record<string, string> = {}): Buffer {
  const top = join(dir, 'src', `kube-prometheus-${VERSION}`);
  const files: Record<string, string> = {
    'README.md': 'not unpacked\n',
    'jsonnet/kube-prometheus/main.libsonnet': '{}\n',
    'manifests/setup/namespace.yaml': 'kind: Namespace\n',
    'manifests/grafana-service.yaml': 'kind: Service\n',
    ...Object.fromEntries(CRDS.map((c) => [`manifests/setup/${c}`, 'kind: CustomResourceDefinition\n'])),
    ...Object.fromEntries(Object.entries(manifests).map(([name, text]) => [`manifests/${name}`, text])),
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(top, path, '..'), { recursive: true });
    writeFileSync(join(top, path), content);
  }
  execFileSync('tar', ['-czf', join(dir, 'release.tar.gz'), '-C', join(dir, 'src'), `kube-prometheus-${VERSION}`]);
  return readFileSync(join(dir, 'release.tar.gz'));
}

/** A static file server for the mirror folder, run inside the sandbox; it logs every request path. */
const SERVER = `const [root, port, log] = process.argv.slice(2);
require('http').createServer((req, res) => {
  require('fs').appendFileSync(log, req.url + '\\n');
  require('fs').readFile(root + decodeURIComponent(req.url), (e, b) => { res.statusCode = e ? 404 : 200; res.end(e ? '' : b); });
}).listen(Number(port), '127.0.0.1');
setTimeout(() => process.exit(0), 120000);
`;

interface Setup {
  dir: string;
  cp1: string;
  mirror: string;
  requests: string;
  sha256: string;
}

async function setUp(sha256?: string, more: { registries?: Record<string, string>; manifests?: Record<string, string> } = {}): Promise<Setup> {
  const dir = tempDir();
  const mirror = join(dir, 'mirror');
  const tarball = releaseTarball(dir, more.manifests);
  mkdirSync(join(mirror, TARBALL_PATH, '..'), { recursive: true });
  writeFileSync(join(mirror, TARBALL_PATH), tarball);
  writeFileSync(join(dir, 'server.cjs'), SERVER);
  const real = createHash('sha256').update(tarball).digest('hex');
  const doc: InventoryDoc = {
    cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16' },
    mirrors: { files: `http://127.0.0.1:${PORT}`, ...(more.registries ? { registries: more.registries } : {}) },
    addons: { kubePrometheus: { enabled: true, sha256: sha256 ?? real } },
    hosts: [
      { name: 'cp1', address: CP1, roles: ['control-plane'] },
      { name: 'e1', address: '127.0.55.11', roles: ['etcd'] },
    ],
  };
  writeFileSync(join(dir, 'inventory.json'), JSON.stringify(doc));
  const gen = await generateAndUnpack(join(dir, 'inventory.json'));
  return { dir, cp1: join(gen.unpacked, 'cp1'), mirror, requests: join(dir, 'requests.log'), sha256: real };
}

/** run.sh --only addons on cp1 with the server up; `upper` keeps /etc and /var between runs. */
function runAddons(s: Setup, more: Partial<NodeState> = {}, args: string[] = []) {
  const state: NodeState = {
    absent: ['curl'],
    installed: ADDON_FILES,
    before: [
      `'${process.execPath}' '${join(s.dir, 'server.cjs')}' '${s.mirror}' ${PORT} '${s.requests}' &`,
      `for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:${PORT}/ready && break; sleep 0.1; done`,
    ],
    readBack: [
      `${KUBE_PROMETHEUS_DIR}/manifests/setup/namespace.yaml`,
      `${KUBE_PROMETHEUS_DIR}/manifests/grafana-service.yaml`,
      `${KUBE_PROMETHEUS_DIR}/README.md`,
      `${KUBE_PROMETHEUS_DIR}/kube-prometheus-${VERSION}/README.md`,
    ],
    ...more,
  };
  return runInSandbox(s.cp1, CP1, ['--only', 'addons', ...args], state);
}

const kubectlCalls = (calls: string[]) => calls.filter((c) => c.startsWith('kubectl ') && !/ diff /.test(c));
const downloads = (s: Setup) => {
  try {
    return readFileSync(s.requests, 'utf8')
      .split('\n')
      .filter((l) => l === TARBALL_PATH).length;
  } catch {
    return 0;
  }
};

testNeeding(
  ['curl', 'tar', 'sha256sum', NAMESPACES],
  'install: setup applied first, a bounded wait on its CRDs, then manifests/ and the monitors; only manifests/ unpacked; a second run changes nothing',
  async () => {
    const s = await setUp();
    try {
      const upper = join(s.dir, 'upper');
      const first = runAddons(s, { upper });
      assert.is(first.code, 0, first.out + first.err);
      assert.equal(first.back.slice(0, 2), ['kind: Namespace\n', 'kind: Service\n'], "manifests/ unpacked into kubeha's folder");
      assert.equal(first.back.slice(2), [null, null], 'nothing outside manifests/ is unpacked');
      const d = `${KUBE_PROMETHEUS_DIR}/manifests`;
      const k = 'kubectl --kubeconfig /etc/kubernetes/admin.conf';
      assert.equal(
        kubectlCalls(first.calls).filter((c) => !c.includes('kube-prometheus-kubeadm.yaml')),
        [
          `${k} apply --server-side --field-manager=kubeha -f ${d}/setup`,
          `${k} wait --for condition=Established --timeout=${CRD_WAIT_SECONDS}s ${CRDS.map((c) => `-f ${d}/setup/${c}`).join(' ')}`,
          `${k} apply --server-side --field-manager=kubeha -f ${d}`,
          `${k} apply --server-side --field-manager=kubeha -f ${KUBE_PROMETHEUS_MONITORS_PATH}`,
        ],
      );
      assert.is(downloads(s), 1);
      const second = runAddons(s, { upper });
      assert.is(second.code, 0, second.out + second.err);
      assert.match(second.out, /kubeha: changed=0\n$/);
      assert.equal(kubectlCalls(second.calls), [], 'nothing applied again');
      assert.is(downloads(s), 1, 'not downloaded again');
    } finally {
      cleanup(s.dir);
    }
  },
);

testNeeding(
  ['curl', 'tar', 'sha256sum', NAMESPACES],
  'install: a tarball that does not match the checksum stops run.sh before anything is unpacked or applied',
  async () => {
    const s = await setUp('0'.repeat(64));
    try {
      const r = runAddons(s);
      assert.is(r.code, 1);
      assert.match(
        r.err,
        `error: the kube-prometheus v${VERSION} tarball from http://127.0.0.1:${PORT}${TARBALL_PATH} does not match addons.kubePrometheus.sha256 (${'0'.repeat(64)}): nothing was unpacked`,
      );
      assert.is(downloads(s), 1, 'it was downloaded through mirrors.files');
      assert.equal(r.back, [null, null, null, null], 'nothing unpacked');
      assert.equal(
        kubectlCalls(r.calls).filter((c) => !c.includes('kube-prometheus-kubeadm.yaml')),
        [],
      );
    } finally {
      cleanup(s.dir);
    }
  },
);

testNeeding(
  ['curl', 'tar', 'sha256sum', NAMESPACES],
  'install: CRDs not established in time stop run.sh naming the timeout; the next run tries again; --dry-run only prints',
  async () => {
    const s = await setUp();
    try {
      const upper = join(s.dir, 'upper');
      const r = runAddons(s, { upper, waitFails: true });
      assert.is(r.code, 1);
      assert.match(r.err, `error: kube-prometheus' CRDs were not established within ${CRD_WAIT_SECONDS}s`);
      assert.not.ok(
        r.calls.some((c) => c.endsWith(`-f ${KUBE_PROMETHEUS_DIR}/manifests`)),
        'manifests/ is not applied',
      );
      const dry = runAddons(s, { upper }, ['--dry-run']);
      assert.is(dry.code, 0, dry.err);
      assert.match(
        dry.out,
        `+ curl -fsSL --retry 3 --connect-timeout 20 --max-time 600 -o /var/cache/kubeha/kube-prometheus-v${VERSION}.tar.gz http://127.0.0.1:${PORT}${TARBALL_PATH}`,
      );
      assert.equal(
        kubectlCalls(dry.calls).filter((c) => !c.includes('kube-prometheus-kubeadm.yaml')),
        [],
        'dry run: nothing applied',
      );
      assert.is(downloads(s), 1, 'dry run: nothing downloaded');
      const again = runAddons(s, { upper });
      assert.is(again.code, 0, again.err);
      assert.ok(
        again.calls.some((c) => c.endsWith(`-f ${KUBE_PROMETHEUS_MONITORS_PATH}`)),
        'the failed install is retried',
      );
    } finally {
      cleanup(s.dir);
    }
  },
);

test("gen artifacts names every kube-prometheus image by the name run.sh writes (its mirror's), for either runtime; the sed script does the same", async () => {
  for (const runtime of ['containerd', 'docker']) {
    const { model, hosts } = await compileDoc({
      cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16', containerRuntime: runtime },
      mirrors: { registries: { 'quay.io': 'https://harbor.example.cn/quay', 'docker.io': 'https://dockerhub.example.cn' } },
      addons: { kubePrometheus: { enabled: true, sha256: 'a'.repeat(64) } },
      hosts: [{ name: 'cp1', address: '127.0.55.1', roles: ['control-plane', 'etcd'] }],
    });
    const images = mirrorList(model)
      .images.filter((i) => i.name === 'kube-prometheus')
      .map((i) => `${i.image} <- ${i.upstream}`);
    assert.equal(images, [
      'ghcr.io/jimmidyson/configmap-reload:v0.15.0 <- ghcr.io/jimmidyson/configmap-reload:v0.15.0',
      'dockerhub.example.cn/grafana/grafana:13.0.2 <- docker.io/grafana/grafana:13.0.2',
      'harbor.example.cn/quay/brancz/kube-rbac-proxy:v0.22.0 <- quay.io/brancz/kube-rbac-proxy:v0.22.0',
      'harbor.example.cn/quay/prometheus-operator/prometheus-config-reloader:v0.92.0 <- quay.io/prometheus-operator/prometheus-config-reloader:v0.92.0',
      'harbor.example.cn/quay/prometheus-operator/prometheus-operator:v0.92.0 <- quay.io/prometheus-operator/prometheus-operator:v0.92.0',
      'harbor.example.cn/quay/prometheus/alertmanager:v0.33.0 <- quay.io/prometheus/alertmanager:v0.33.0',
      'harbor.example.cn/quay/prometheus/blackbox-exporter:v0.28.0 <- quay.io/prometheus/blackbox-exporter:v0.28.0',
      'harbor.example.cn/quay/prometheus/node-exporter:v1.11.1 <- quay.io/prometheus/node-exporter:v1.11.1',
      'harbor.example.cn/quay/prometheus/prometheus:v3.12.0 <- quay.io/prometheus/prometheus:v3.12.0',
      'registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.19.0 <- registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.19.0',
      'registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0 <- registry.k8s.io/prometheus-adapter/prometheus-adapter:v0.12.0',
    ]);
    const sed = text(hosts, 'cp1', `rootfs${KUBE_PROMETHEUS_IMAGES_SED}`).split('\n');
    assert.is(sed.filter((l) => l.startsWith('s#')).length, 8, runtime);
    assert.ok(sed.includes(`s#(image: ["']?|=)grafana/grafana:13\\.0\\.2(["']?)$#\\1dockerhub.example.cn/grafana/grafana:13.0.2\\2#`), sed.join('\n'));
  }
});

/** Parts of v0.18.0's manifests as the release writes them (prometheusOperator-deployment.yaml, grafana-deployment.yaml, ...). */
const IMAGE_MANIFESTS: Record<string, string> = {
  'prometheusOperator-deployment.yaml': [
    '      - args:',
    '        - --kubelet-service=kube-system/kubelet',
    '        - --prometheus-config-reloader=quay.io/prometheus-operator/prometheus-config-reloader:v0.92.0',
    '        image: quay.io/prometheus-operator/prometheus-operator:v0.92.0',
    '        image: quay.io/brancz/kube-rbac-proxy:v0.22.0',
    '',
  ].join('\n'),
  'grafana-deployment.yaml': '        image: grafana/grafana:13.0.2\n        image: "grafana/grafana:13.0.2"\n',
  'blackboxExporter-deployment.yaml': '        image: ghcr.io/jimmidyson/configmap-reload:v0.15.0\n',
  'kubeStateMetrics-deployment.yaml': '        image: registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.19.0\n',
  'prometheus-prometheus.yaml': '  image: quay.io/prometheus/prometheus:v3.12.0\n',
};

testNeeding(
  ['curl', 'tar', 'sed', 'sha256sum', NAMESPACES],
  "install with mirrors.registries: every image of a mirrored registry is applied by its mirror's name (any runtime); one left stops run.sh before anything is applied",
  async () => {
    const registries = {
      'quay.io': 'https://harbor.example.cn/quay',
      'docker.io': 'https://dockerhub.example.cn',
      'ghcr.io': 'https://harbor.example.cn/ghcr',
    };
    const s = await setUp(undefined, { registries, manifests: IMAGE_MANIFESTS });
    try {
      const names = Object.keys(IMAGE_MANIFESTS);
      const r = runAddons(s, { installed: [...ADDON_FILES, KUBE_PROMETHEUS_IMAGES_SED], readBack: names.map((n) => `${KUBE_PROMETHEUS_DIR}/manifests/${n}`) });
      assert.is(r.code, 0, r.out + r.err);
      assert.equal(r.back, [
        [
          '      - args:',
          '        - --kubelet-service=kube-system/kubelet',
          '        - --prometheus-config-reloader=harbor.example.cn/quay/prometheus-operator/prometheus-config-reloader:v0.92.0',
          '        image: harbor.example.cn/quay/prometheus-operator/prometheus-operator:v0.92.0',
          '        image: harbor.example.cn/quay/brancz/kube-rbac-proxy:v0.22.0',
          '',
        ].join('\n'),
        '        image: dockerhub.example.cn/grafana/grafana:13.0.2\n        image: "dockerhub.example.cn/grafana/grafana:13.0.2"\n',
        '        image: harbor.example.cn/ghcr/jimmidyson/configmap-reload:v0.15.0\n',
        // registry.k8s.io has no mirror here: as written.
        '        image: registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.19.0\n',
        '  image: harbor.example.cn/quay/prometheus/prometheus:v3.12.0\n',
      ]);
      assert.ok(r.calls.some((c) => c.endsWith(`-f ${KUBE_PROMETHEUS_DIR}/manifests`)));
    } finally {
      cleanup(s.dir);
    }
    // A manifest that names an image another way (in a list of flags): left as it was, so run.sh stops before applying anything.
    const odd = await setUp(undefined, {
      registries,
      manifests: { 'grafana-deployment.yaml': '        args: [--image, grafana/grafana:13.0.2]\n' },
    });
    try {
      const r = runAddons(odd, { installed: [...ADDON_FILES, KUBE_PROMETHEUS_IMAGES_SED] });
      assert.is(r.code, 1, r.out + r.err);
      assert.match(r.err, "kube-prometheus' manifests still name an image of a mirrored registry");
      assert.equal(
        kubectlCalls(r.calls).filter((c) => !c.includes('kube-prometheus-kubeadm.yaml')),
        [],
      );
    } finally {
      cleanup(odd.dir);
    }
  },
);

test.run();
