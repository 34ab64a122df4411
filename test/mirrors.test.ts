/** Mirrors and air-gapped sites (issue 13): with every mirror set, nothing in a bundle reaches an upstream host. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { load } from 'js-yaml';
import { parse as parseToml } from 'smol-toml';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, compileDoc, runCli, tempDir, testNeeding, text, type InventoryDoc } from './helpers.js';
import { RUNTIME_PATHS } from '../src/render/kubernetes.js';
import { FLANNEL_MANIFEST_PATH } from '../src/render/flannel.js';
import { KUBEADM_CONFIG_PATH } from '../src/render/kubeadm.js';
import { mirrorList } from '../src/render/mirror-list.js';
import { validateInventory } from '../src/inventory/index.js';
import type { BundleFile } from '../src/bundle/manifest.js';

const MIRRORS = {
  kubernetesPackages: 'https://mirrors.example.cn/kubernetes-new/core/stable',
  dockerPackages: 'https://mirrors.example.cn/docker-ce',
  files: 'https://files.example.cn/kubeha',
  registries: {
    'registry.k8s.io': 'https://harbor.example.cn/k8s',
    'docker.io': 'https://dockerhub.example.cn',
    'ghcr.io': 'https://harbor.example.cn/ghcr',
    'quay.io': 'https://quay.example.cn:5000',
  },
};
const UPSTREAM = ['https://pkgs.k8s.io', 'https://download.docker.com', 'https://github.com'];

function cluster(runtime: 'containerd' | 'docker', mirrors: object = MIRRORS): InventoryDoc {
  return {
    cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16', containerRuntime: runtime },
    loadBalancer: { vip: '127.0.1.100' },
    etcd: { version: '3.5.27' },
    mirrors: structuredClone(mirrors),
    hosts: [
      { name: 'cp1', address: '127.0.1.1', roles: ['control-plane', 'etcd', 'loadbalancer'] },
      { name: 'cp2', address: '127.0.1.2', roles: ['control-plane', 'etcd', 'loadbalancer'] },
      { name: 'e3', address: '127.0.1.3', roles: ['etcd'] },
      { name: 'w1', address: '127.0.1.4', roles: ['worker'] },
    ],
  };
}

const toText = (f: BundleFile) => f.bytes.toString('utf8');
const rootfs = (path: string) => `rootfs${path}`;

/** Image references in the generated configs, derived the way kubeadm, containerd, cri-dockerd and kubelet do. */
function imagesInConfigs(hosts: Map<string, Map<string, BundleFile>>, runtime: 'containerd' | 'docker'): string[] {
  const docs = text(hosts, 'cp1', rootfs(KUBEADM_CONFIG_PATH))
    .split(/^---\n/m)
    .filter(Boolean)
    .map((d) => load(d) as Record<string, any>);
  const cc = docs.find((d) => d.kind === 'ClusterConfiguration')!;
  const repo: string = cc.imageRepository;
  // kubeadm's GetDNSImage: <repo>/coredns/coredns for registry.k8s.io itself, <repo>/coredns otherwise, dns.imageRepository first.
  const dnsRepo: string = cc.dns?.imageRepository ?? (repo === 'registry.k8s.io' ? `${repo}/coredns` : repo);
  const sandbox =
    runtime === 'containerd'
      ? ((parseToml(text(hosts, 'w1', rootfs(RUNTIME_PATHS.containerdConfig))) as any).plugins['io.containerd.grpc.v1.cri'].sandbox_image as string)
      : /--pod-infra-container-image=(\S+)/.exec(text(hosts, 'w1', rootfs(RUNTIME_PATHS.criDockerService)))![1]!;
  const flannel = text(hosts, 'cp1', rootfs(FLANNEL_MANIFEST_PATH))
    .split(/^---\n/m)
    .filter(Boolean)
    .map((d) => load(d) as any)
    .find((d) => d.kind === 'DaemonSet');
  const containers = [...flannel.spec.template.spec.initContainers, ...flannel.spec.template.spec.containers].map((c: any) => c.image as string);
  const version: string = cc.kubernetesVersion;
  return [
    ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'].map((c) => `${repo}/${c}:${version}`),
    `${dnsRepo}/coredns:v1.12.1`,
    sandbox,
    ...new Set(containers),
  ].sort();
}

/** The images gen artifacts lists, sorted, each once. */
function listedImages(model: Parameters<typeof mirrorList>[0]): string[] {
  const images = mirrorList(model)
    .images.map((i) => i.image)
    .sort();
  assert.equal(images, [...new Set(images)], 'each image once');
  return images;
}

for (const runtime of ['containerd', 'docker'] as const) {
  test(`${runtime}, every mirror set: no bundle file downloads from or configures pkgs.k8s.io, download.docker.com or github.com (both OS families)`, async () => {
    const { hosts } = await compileDoc(cluster(runtime));
    let files = 0;
    for (const [host, bundle] of hosts) {
      for (const [path, file] of bundle) {
        files++;
        for (const upstream of UPSTREAM) assert.not.ok(toText(file).includes(upstream), `${host}/${path} names ${upstream}`);
      }
    }
    assert.ok(files > 40, `${files} files`);
    // The debian and rhel branches of run.sh both point at the mirrors, and the etcd/cri-dockerd downloads take the files prefix.
    const run = text(hosts, 'w1', 'run.sh');
    assert.match(run, "'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://mirrors.example.cn/kubernetes-new/core/stable/v1.34/deb/ /'");
    assert.match(run, 'baseurl=https://mirrors.example.cn/kubernetes-new/core/stable/v1.34/rpm/');
    assert.match(run, 'gpgkey=https://mirrors.example.cn/kubernetes-new/core/stable/v1.34/rpm/repodata/repomd.xml.key');
    assert.match(run, 'baseurl=https://mirrors.example.cn/docker-ce/linux/centos/$releasever/$basearch/stable');
    assert.match(
      text(hosts, 'e3', 'run.sh'),
      'etcd_url=https://files.example.cn/kubeha/github.com/etcd-io/etcd/releases/download/v3.5.27/etcd-v3.5.27-linux-amd64.tar.gz',
    );
    if (runtime === 'docker') {
      assert.match(run, 'docker_base=https://mirrors.example.cn/docker-ce');
      assert.match(
        run,
        'crid_url=https://files.example.cn/kubeha/github.com/Mirantis/cri-dockerd/releases/download/v0.3.16/cri-dockerd-0.3.16.amd64.tgz crid_sha256=cc7f181ce850130dc375515c54cd8a27e1e862252abc5b7eade7b4a03ddabd8e',
      );
    }
  });

  test(`${runtime}: the images gen artifacts lists are exactly the ones the generated configs refer to, all from the mirrors`, async () => {
    const { model, hosts } = await compileDoc(cluster(runtime));
    const listed = listedImages(model);
    assert.equal(listed, imagesInConfigs(hosts, runtime));
    assert.equal(
      listed,
      [
        'harbor.example.cn/k8s/kube-apiserver:v1.34.2',
        'harbor.example.cn/k8s/kube-controller-manager:v1.34.2',
        'harbor.example.cn/k8s/kube-scheduler:v1.34.2',
        'harbor.example.cn/k8s/kube-proxy:v1.34.2',
        'harbor.example.cn/k8s/coredns/coredns:v1.12.1',
        'harbor.example.cn/k8s/pause:3.10.1',
        'harbor.example.cn/ghcr/flannel-io/flannel-cni-plugin:v1.8.0-flannel1',
        'harbor.example.cn/ghcr/flannel-io/flannel:v0.27.4',
      ].sort(),
    );
    // Without mirrors the same comparison holds with upstream names.
    const plain = await compileDoc(cluster(runtime, {}));
    assert.equal(listedImages(plain.model), imagesInConfigs(plain.hosts, runtime));
    assert.ok(listedImages(plain.model).every((i) => i.startsWith('registry.k8s.io/') || i.startsWith('ghcr.io/')));
  });
}

testNeeding(['shellcheck'], 'shellcheck -S warning accepts every run.sh with every mirror set (both runtimes)', async () => {
  const dir = tempDir();
  try {
    const files: string[] = [];
    for (const runtime of ['containerd', 'docker'] as const) {
      for (const [host, bundle] of (await compileDoc(cluster(runtime))).hosts) {
        files.push(join(dir, `${runtime}-${host}.sh`));
        writeFileSync(files.at(-1)!, bundle.get('run.sh')!.bytes);
      }
    }
    const result = spawnSync('shellcheck', ['-S', 'warning', ...files], { encoding: 'utf8' });
    assert.is(result.status, 0, result.stdout + result.stderr);
  } finally {
    cleanup(dir);
  }
});

test('containerd points every mirrored registry at its mirror (config_path + hosts.toml); docker gets registry-mirrors for docker.io', async () => {
  const { hosts } = await compileDoc(cluster('containerd'));
  const config = JSON.parse(JSON.stringify(parseToml(text(hosts, 'w1', rootfs(RUNTIME_PATHS.containerdConfig))))) as any;
  assert.equal(config.plugins['io.containerd.grpc.v1.cri'].registry, { config_path: '/etc/containerd/certs.d' });
  const hostsToml = (registry: string) => JSON.parse(JSON.stringify(parseToml(text(hosts, 'w1', rootfs(`/etc/containerd/certs.d/${registry}/hosts.toml`)))));
  assert.equal(hostsToml('registry.k8s.io'), {
    server: 'https://registry.k8s.io',
    host: { 'https://harbor.example.cn/v2/k8s': { capabilities: ['pull', 'resolve'], override_path: true } },
  });
  assert.equal(hostsToml('docker.io'), {
    server: 'https://registry-1.docker.io',
    host: { 'https://dockerhub.example.cn': { capabilities: ['pull', 'resolve'] } },
  });
  assert.equal(hostsToml('quay.io'), { server: 'https://quay.io', host: { 'https://quay.example.cn:5000': { capabilities: ['pull', 'resolve'] } } });
  assert.is(hosts.get('e3')!.get(rootfs('/etc/containerd/certs.d/docker.io/hosts.toml')), undefined, 'etcd-only hosts run no containerd');
  const docker = await compileDoc(cluster('docker'));
  assert.equal(JSON.parse(text(docker.hosts, 'w1', rootfs(RUNTIME_PATHS.dockerDaemon)))['registry-mirrors'], ['https://dockerhub.example.cn']);
  assert.is(docker.hosts.get('w1')!.get(rootfs('/etc/containerd/certs.d/docker.io/hosts.toml')), undefined);
  // Without registries nothing changes: no config_path, no hosts.toml, no registry-mirrors.
  const plain = await compileDoc(cluster('containerd', {}));
  assert.is((parseToml(text(plain.hosts, 'w1', rootfs(RUNTIME_PATHS.containerdConfig))) as any).plugins['io.containerd.grpc.v1.cri'].registry, undefined);
  assert.ok(![...plain.hosts.get('w1')!.keys()].some((p) => p.includes('certs.d')));
});

test("a custom imageRepository keeps kubeadm's flat coredns path; a registry.k8s.io mirror then only warns", async () => {
  const doc = cluster('containerd');
  doc.cluster.imageRepository = 'registry.aliyuncs.com/google_containers';
  const { model, hosts } = await compileDoc(doc);
  const images = mirrorList(model).images;
  assert.is(images.find((i) => i.name === 'coredns')!.image, 'registry.aliyuncs.com/google_containers/coredns:v1.12.1');
  assert.is(images.find((i) => i.name === 'coredns')!.upstream, 'registry.k8s.io/coredns/coredns:v1.12.1');
  assert.not.match(text(hosts, 'cp1', rootfs(KUBEADM_CONFIG_PATH)), /^dns:/m);
  assert.equal(listedImages(model), imagesInConfigs(hosts, 'containerd'));
});

test('etcd.tarballs: any version from a URL + SHA-256 the operator vouches for; without one an unknown version is refused', async () => {
  const doc = cluster('containerd');
  doc.etcd = { version: '3.6.5', tarballs: { amd64: { url: 'https://files.example.cn/etcd/etcd-v3.6.5-linux-amd64.tar.gz', sha256: 'a'.repeat(64) } } };
  const { model, hosts } = await compileDoc(doc);
  assert.match(
    text(hosts, 'e3', 'run.sh'),
    `x86_64) etcd_url=https://files.example.cn/etcd/etcd-v3.6.5-linux-amd64.tar.gz etcd_file=etcd-v3.6.5-linux-amd64.tar.gz etcd_folder=etcd-v3.6.5-linux-amd64 etcd_sha256=${'a'.repeat(64)} ;;`,
  );
  assert.not.match(text(hosts, 'e3', 'run.sh'), 'aarch64) etcd_url');
  assert.equal(
    mirrorList(model).downloads.map((d) => [d.what, d.url, d.sha256]),
    [['etcd v3.6.5 amd64', 'https://files.example.cn/etcd/etcd-v3.6.5-linux-amd64.tar.gz', 'a'.repeat(64)]],
  );
  delete doc.etcd.tarballs;
  await compileDoc(doc).then(
    () => assert.unreachable('3.6.5 has no pinned checksum'),
    (e: Error) => assert.match(e.message, '/etcd/version: kubeha knows no SHA-256 checksum of the etcd v3.6.5 release'),
  );
});

test('gen artifacts --json lists every download with its SHA-256, every repository and image; text names the same', async () => {
  const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'kubeha-mirrors-'));
  try {
    const file = join(dir, 'inventory.json');
    writeFileSync(file, JSON.stringify(cluster('docker')));
    const json = await runCli(['artifacts', file, '--json']);
    assert.is(json.code, 0, json.err);
    const list = JSON.parse(json.out);
    assert.equal(
      list.downloads.map((d: any) => d.url),
      [
        'https://files.example.cn/kubeha/github.com/etcd-io/etcd/releases/download/v3.5.27/etcd-v3.5.27-linux-amd64.tar.gz',
        'https://files.example.cn/kubeha/github.com/etcd-io/etcd/releases/download/v3.5.27/etcd-v3.5.27-linux-arm64.tar.gz',
        'https://files.example.cn/kubeha/github.com/Mirantis/cri-dockerd/releases/download/v0.3.16/cri-dockerd-0.3.16.amd64.tgz',
        'https://files.example.cn/kubeha/github.com/Mirantis/cri-dockerd/releases/download/v0.3.16/cri-dockerd-0.3.16.arm64.tgz',
      ],
    );
    assert.ok(list.downloads.every((d: any) => /^[0-9a-f]{64}$/.test(d.sha256)));
    assert.equal(
      list.repositories.map((r: any) => `${r.format} ${r.url}`),
      [
        'deb https://mirrors.example.cn/kubernetes-new/core/stable/v1.34/deb/',
        'rpm https://mirrors.example.cn/kubernetes-new/core/stable/v1.34/rpm/',
        'deb https://mirrors.example.cn/docker-ce/linux/debian',
        'deb https://mirrors.example.cn/docker-ce/linux/ubuntu',
        'rpm https://mirrors.example.cn/docker-ce/linux/centos/$releasever/$basearch/stable',
      ],
    );
    assert.is(list.images.length, 8);
    // containerd nodes install containerd.io from Docker's repositories too (Debian 12's containerd is too old): a mirror
    // filled from the list without them fails on every Debian and Ubuntu node.
    writeFileSync(file, JSON.stringify(cluster('containerd')));
    const containerd = JSON.parse((await runCli(['artifacts', file, '--json'])).out);
    assert.equal(
      containerd.repositories.filter((r: any) => r.url.includes('/docker-ce/')).map((r: any) => `${r.format} ${r.url} key ${r.key} (${r.what}; ${r.hosts})`),
      [
        'deb https://mirrors.example.cn/docker-ce/linux/debian key https://mirrors.example.cn/docker-ce/linux/debian/gpg (containerd.io for debian; Kubernetes nodes on debian hosts)',
        'deb https://mirrors.example.cn/docker-ce/linux/ubuntu key https://mirrors.example.cn/docker-ce/linux/ubuntu/gpg (containerd.io for ubuntu; Kubernetes nodes on ubuntu hosts)',
        'rpm https://mirrors.example.cn/docker-ce/linux/centos/$releasever/$basearch/stable key https://mirrors.example.cn/docker-ce/linux/centos/gpg (containerd.io; Kubernetes nodes on RHEL-like hosts)',
      ],
    );
    writeFileSync(file, JSON.stringify(cluster('docker')));
    const plain = await runCli(['artifacts', file]);
    assert.is(plain.code, 0);
    for (const item of [...list.downloads.map((d: any) => `${d.url}  sha256:${d.sha256}`), ...list.images.map((i: any) => `${i.image}  <- ${i.upstream}`)])
      assert.match(plain.out, item);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('warnings: a docker.io mirror with a path under docker, a registry.k8s.io mirror beside a custom imageRepository, tarballs with distro', () => {
  const warnings = (change: (doc: InventoryDoc) => void) => {
    const doc = cluster('docker');
    change(doc);
    const result = validateInventory('inventory.json', JSON.stringify(doc));
    assert.equal(result.errors, []);
    return result.warnings.map((w) => w.pointer);
  };
  assert.equal(
    warnings(() => {}),
    [],
  );
  assert.equal(
    warnings((d) => {
      d.mirrors.registries['docker.io'] = 'https://harbor.example.cn/dockerhub';
    }),
    ['/mirrors/registries/docker.io'],
  );
  assert.equal(
    warnings((d) => {
      d.cluster.containerRuntime = 'containerd';
      d.mirrors.registries['docker.io'] = 'https://harbor.example.cn/dockerhub';
    }),
    [],
  );
  assert.equal(
    warnings((d) => {
      d.cluster.imageRepository = 'registry.aliyuncs.com/google_containers';
    }),
    ['/mirrors/registries/registry.k8s.io'],
  );
  assert.equal(
    warnings((d) => {
      d.etcd = { install: 'distro', tarballs: { arm64: { url: 'https://files.example.cn/e.tgz', sha256: 'b'.repeat(64) } } };
    }),
    ['/etcd/tarballs'],
  );
});

test.run();
