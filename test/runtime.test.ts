/** Container runtime files: containerd config.toml (parsed back with smol-toml), docker daemon.json, cri-dockerd units. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { parse as parseToml } from 'smol-toml';
import { compileDoc, text, type InventoryDoc } from './helpers.js';
import { COMMENT_SWAP_SED, RUNTIME_PATHS, SWAP_FSTAB_ERE } from '../src/render/kubernetes.js';
import { CRI_DOCKERD } from '../src/render/runtime.js';
import { kubeadmImageTags } from '../src/model/images.js';

const rootfs = (path: string) => `rootfs${path}`;

function inventory(version: string, runtime: string, imageRepository?: string): InventoryDoc {
  return {
    cluster: { kubernetesVersion: version, podSubnet: '10.244.0.0/16', containerRuntime: runtime, ...(imageRepository ? { imageRepository } : {}) },
    hosts: [
      { name: 'cp1', address: '127.0.1.1', roles: ['control-plane', 'etcd'] },
      { name: 'w1', address: '127.0.1.2', roles: ['worker'] },
      { name: 'e2', address: '127.0.1.3', roles: ['etcd'] },
      { name: 'e3', address: '127.0.1.4', roles: ['etcd'] },
    ],
  };
}

test('containerd config.toml: version 2 (3 from 1.36), runc with SystemdCgroup, the pause image of each minor from the image repository', async () => {
  const expected: [string, string][] = [
    ['1.24.17', '3.7'],
    ['1.25.16', '3.8'],
    ['1.30.6', '3.9'],
    ['1.31.0', '3.10'],
    ['1.33.1', '3.10'],
    ['1.34.2', '3.10.1'],
    ['1.35.4', '3.10.1'],
    // kubeadm v1.36.3's constants.PauseVersion (cmd/kubeadm/app/constants/constants.go of the module).
    ['1.36.3', '3.10.2'],
  ];
  for (const [version, pause] of expected) {
    const { hosts } = await compileDoc(inventory(version, 'containerd', 'registry.example.com/k8s'));
    for (const host of ['cp1', 'w1']) {
      const toml = JSON.parse(JSON.stringify(parseToml(text(hosts, host, rootfs(RUNTIME_PATHS.containerdConfig))))) as Record<string, any>;
      assert.equal(toml.imports, ['/etc/containerd/conf.d/*.toml'], "the host's own drop-ins");
      // From 1.36 (containerd 2.0 at least) containerd 2.x's version 3 (test/containerd-config.test.ts reads both back).
      const v3 = version.startsWith('1.36.');
      assert.is(toml.version, v3 ? 3 : 2);
      const cri = v3 ? toml.plugins['io.containerd.cri.v1.runtime'] : toml.plugins['io.containerd.grpc.v1.cri'];
      const sandbox = v3 ? toml.plugins['io.containerd.cri.v1.images'].pinned_images.sandbox : cri.sandbox_image;
      assert.is(sandbox, `registry.example.com/k8s/pause:${pause}`, version);
      assert.is(cri.containerd.default_runtime_name, 'runc');
      assert.equal(cri.containerd.runtimes.runc, { runtime_type: 'io.containerd.runc.v2', options: { SystemdCgroup: true } });
      assert.equal(cri.cni, v3 ? { bin_dirs: ['/opt/cni/bin'], conf_dir: '/etc/cni/net.d' } : { bin_dir: '/opt/cni/bin', conf_dir: '/etc/cni/net.d' });
    }
    assert.is(hosts.get('cp1')!.get(rootfs(RUNTIME_PATHS.dockerDaemon)), undefined);
    assert.is(hosts.get('e2')!.get(rootfs(RUNTIME_PATHS.containerdConfig)), undefined, 'etcd-only hosts run no container runtime');
  }
  // kubeadm's PauseVersion and CoreDNSVersion, read in each module's cmd/kubeadm/app/constants/constants.go; CoreDNS
  // changed within 1.30 (v1.11.3 from v1.30.5) and 1.31 (from v1.31.1); an unknown minor has no answer.
  assert.equal(kubeadmImageTags('1.30.4'), { pause: '3.9', coredns: 'v1.11.1' });
  assert.equal(kubeadmImageTags('1.30.5'), { pause: '3.9', coredns: 'v1.11.3' });
  assert.equal(kubeadmImageTags('1.31.0'), { pause: '3.10', coredns: 'v1.11.1' });
  assert.equal(kubeadmImageTags('1.31.14'), { pause: '3.10', coredns: 'v1.11.3' });
  assert.equal(kubeadmImageTags('1.37.2'), { pause: '3.10.2', coredns: 'v1.14.6' });
  assert.throws(() => kubeadmImageTags('1.23.17'), /kubeha knows nothing of Kubernetes 1\.23: it supports 1\.24 to 1\.37/);
});

test("docker: daemon.json with the systemd cgroup driver, live restore, cri-dockerd units on the model's CRI socket with the pause image", async () => {
  const { model, hosts } = await compileDoc(inventory('1.30.6', 'docker'));
  const daemon = JSON.parse(text(hosts, 'w1', rootfs(RUNTIME_PATHS.dockerDaemon)));
  assert.equal(daemon['exec-opts'], ['native.cgroupdriver=systemd']);
  assert.equal(daemon['log-opts'], { 'max-size': '100m', 'max-file': '3' });
  // A dockerd restart for a changed daemon.json (run.sh's services phase) or a docker-ce upgrade keeps the containers.
  assert.is(daemon['live-restore'], true);
  assert.is(hosts.get('w1')!.get(rootfs(RUNTIME_PATHS.containerdConfig)), undefined);
  const service = text(hosts, 'w1', rootfs(RUNTIME_PATHS.criDockerService));
  const execStart = service.match(/^ExecStart=(.*)$/m)![1]!;
  assert.ok(execStart.startsWith(`${CRI_DOCKERD.binary} --container-runtime-endpoint fd:// --network-plugin=cni`));
  assert.match(execStart, '--pod-infra-container-image=registry.k8s.io/pause:3.9');
  assert.match(service, /^Requires=cri-docker.socket docker.service$/m);
  const socket = text(hosts, 'w1', rootfs(RUNTIME_PATHS.criDockerSocket));
  assert.is(model.cluster.criSocket, 'unix:///var/run/cri-dockerd.sock');
  assert.match(socket, /^ListenStream=\/run\/cri-dockerd.sock$/m);
  assert.match(text(hosts, 'w1', rootfs(RUNTIME_PATHS.crictl)), 'runtime-endpoint: unix:///var/run/cri-dockerd.sock');
});

test('the fstab swap ERE and sed touch only swap-type lines (real grep and sed)', () => {
  const fstab =
    [
      'UUID=1 / ext4 defaults 0 1',
      'UUID=2 none swap sw 0 0',
      '/swap.img\tnone\tswap\tsw\t0\t0',
      '# UUID=3 none swap sw 0 0',
      '/dev/sdb1 /mnt/swapdata ext4 defaults 0 2',
      'tmpfs /tmp tmpfs defaults,noswap 0 0',
    ].join('\n') + '\n';
  const matched = execFileSync('grep', ['-E', SWAP_FSTAB_ERE], { input: fstab, encoding: 'utf8' }).trim().split('\n');
  assert.equal(matched, ['UUID=2 none swap sw 0 0', '/swap.img\tnone\tswap\tsw\t0\t0']);
  const edited = execFileSync('sed', ['-E', COMMENT_SWAP_SED], { input: fstab, encoding: 'utf8' }).split('\n');
  assert.is(edited[1], '# kubeha swap off: UUID=2 none swap sw 0 0');
  assert.is(edited[2], '# kubeha swap off: /swap.img\tnone\tswap\tsw\t0\t0');
  assert.equal([edited[0], edited[3], edited[4], edited[5]], [fstab.split('\n')[0], fstab.split('\n')[3], fstab.split('\n')[4], fstab.split('\n')[5]]);
});

test.run();
