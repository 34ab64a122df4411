/**
 * The generated hosts.toml files on a real containerd (Debian's containerd package): pulling an upstream image name
 * through them reaches the same registry URL as pulling the name the generated configs write. ctr runs in a network
 * namespace of its own (only loopback), so nothing leaves the machine and every connection fails at once;
 * containerd's debug log names every URL it tries.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mirrorList } from '../src/render/mirror-list.js';
import { cleanup, compileDoc, NAMESPACES, tempDir, testNeeding } from './helpers.js';

// TEST-NET-1, unreachable in the namespace (only loopback is up); not loopback, which containerd would reach over plain http.
const MIRROR = '192.0.2.10:5000';
const MIRRORS = { 'registry.k8s.io': `https://${MIRROR}/k8s`, 'ghcr.io': `https://${MIRROR}/ghcr`, 'docker.io': `https://${MIRROR}` };

/** The URLs containerd asks for while resolving an image, in order (from ctr --debug). */
function requestedUrls(socket: string, image: string, hostsDir?: string): string[] {
  const args = [
    '-n',
    'sh',
    '-c',
    'ip link set lo up && exec "$@"',
    'sh',
    'ctr',
    '--address',
    socket,
    '--debug',
    'images',
    'pull',
    ...(hostsDir ? ['--hosts-dir', hostsDir] : []),
    image,
  ];
  const r = spawnSync('unshare', args, { encoding: 'utf8', timeout: 60_000 });
  return [...(r.stdout + r.stderr).matchAll(/msg="do request".* url="([^"]+)"/g)].map((m) => m[1]!);
}

async function startContainerd(dir: string): Promise<{ process: ChildProcess; socket: string }> {
  const socket = join(dir, 'containerd.sock');
  writeFileSync(join(dir, 'config.toml'), 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n');
  const child = spawn('containerd', ['--config', join(dir, 'config.toml'), '--root', join(dir, 'root'), '--state', join(dir, 'state'), '--address', socket], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(existsSync(socket), 'containerd did not start within 10 s');
  return { process: child, socket };
}

testNeeding(
  ['containerd', 'ctr', NAMESPACES],
  'real containerd: an upstream name through the generated hosts.toml reaches the URL of the mirrored name the configs use',
  async () => {
    const { model, hosts } = await compileDoc({
      cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16' },
      mirrors: { registries: MIRRORS },
      hosts: [{ name: 'cp1', address: '127.0.1.1', roles: ['control-plane', 'etcd', 'worker'] }],
    });
    const dir = tempDir();
    let containerd: ChildProcess | undefined;
    try {
      const hostsDir = join(dir, 'certs.d');
      for (const [path, file] of hosts.get('cp1')!) {
        if (!path.startsWith('rootfs/etc/containerd/certs.d/')) continue;
        const target = join(hostsDir, path.slice('rootfs/etc/containerd/certs.d/'.length));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, file.bytes);
      }
      const started = await startContainerd(dir);
      containerd = started.process;
      let checked = 0;
      for (const image of mirrorList(model).images) {
        const [name, tag] = image.image.split(/:(?=[^:/]+$)/) as [string, string];
        const direct = `https://${name.replace('/', '/v2/')}/manifests/${tag}`;
        assert.equal(requestedUrls(started.socket, image.image).slice(0, 1), [direct], `${image.image} pulled by its configured name`);
        const upstreamRegistry = image.upstream.slice(0, image.upstream.indexOf('/'));
        assert.equal(
          requestedUrls(started.socket, image.upstream, hostsDir).slice(0, 1),
          [`${direct}?ns=${upstreamRegistry}`],
          `${image.upstream} through hosts.toml`,
        );
        checked++;
      }
      // docker.io (no path in the mirror URL): library images keep containerd's library/ prefix on the mirror.
      assert.equal(requestedUrls(started.socket, 'docker.io/library/busybox:1.36', hostsDir).slice(0, 1), [
        `https://${MIRROR}/v2/library/busybox/manifests/1.36?ns=docker.io`,
      ]);
      assert.is(checked, 8);
    } finally {
      containerd?.kill();
      cleanup(dir);
    }
  },
);

testNeeding(['containerd'], 'real containerd reads the generated config.toml: config_path under the CRI registry, the mirrored sandbox image', async () => {
  const { hosts } = await compileDoc({
    cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16' },
    mirrors: { registries: MIRRORS },
    hosts: [{ name: 'cp1', address: '127.0.1.1', roles: ['control-plane', 'etcd', 'worker'] }],
  });
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'config.toml'), hosts.get('cp1')!.get('rootfs/etc/containerd/config.toml')!.bytes);
    const dump = spawnSync('containerd', ['--config', join(dir, 'config.toml'), 'config', 'dump'], { encoding: 'utf8', timeout: 30_000 });
    assert.is(dump.status, 0, dump.stderr);
    const registry = /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\]\n((?:[ \t]+.*\n)*)/.exec(dump.stdout)?.[1] ?? '';
    assert.match(registry, /^\s+config_path = "\/etc\/containerd\/certs\.d"$/m);
    assert.match(dump.stdout, `sandbox_image = "${MIRROR}/k8s/pause:3.10.1"`);
  } finally {
    cleanup(dir);
  }
});

testNeeding(['containerd', NAMESPACES], "real containerd reads the host's drop-ins of /etc/containerd/conf.d over kubeha's config.toml", async () => {
  const { hosts } = await compileDoc({
    cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16' },
    hosts: [{ name: 'cp1', address: '127.0.1.1', roles: ['control-plane', 'etcd', 'worker'] }],
  });
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'config.toml'), hosts.get('cp1')!.get('rootfs/etc/containerd/config.toml')!.bytes);
    writeFileSync(join(dir, 'site.toml'), 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\nrestrict_oom_score_adj = true\n');
    // A private mount namespace with its own /etc/containerd: the drop-in folder is an absolute path in config.toml.
    const dump = (withDropIn: boolean) =>
      spawnSync(
        'unshare',
        [
          '-m',
          'sh',
          '-c',
          `mkdir -p /etc/containerd && mount -t tmpfs none /etc/containerd && mkdir /etc/containerd/conf.d && ${withDropIn ? `cp '${dir}/site.toml' /etc/containerd/conf.d/ && ` : ''}containerd --config '${dir}/config.toml' config dump`,
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
    const without = dump(false);
    assert.is(without.status, 0, without.stderr);
    assert.match(without.stdout, /^\s*restrict_oom_score_adj = false$/m);
    const withDropIn = dump(true);
    assert.is(withDropIn.status, 0, withDropIn.stderr);
    assert.match(withDropIn.stdout, /^\s*restrict_oom_score_adj = true$/m);
    // Debian 12's containerd 1.6 replaces a plugin's whole table with the drop-in's (2.x merges key by key: the
    // e2e cluster runs 2.2 with this drop-in and kubeha's SystemdCgroup): what docs/operations.md warns about.
    assert.not.match(withDropIn.stdout, /^\s*SystemdCgroup = true$/m, 'containerd 1.6: the drop-in replaced the CRI table');
    assert.match(without.stdout, /^\s*SystemdCgroup = true$/m);
  } finally {
    cleanup(dir);
  }
});

test.run();
