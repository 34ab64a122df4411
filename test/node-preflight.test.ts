/**
 * What a Kubernetes node's preflight refuses before anything is installed (issue 22): cgroup v1 from Kubernetes 1.35 on
 * (the kubelet's failCgroupV1 and kubeadm's SystemVerification check) unless cluster.allowCgroupV1 accepts it, and
 * kube-proxy's ipvs mode on a kernel without IPVS; and the kernel modules step on kernels whose modules are built in.
 * run.sh runs for real in the namespace sandbox, /sys/fs/cgroup and /lib/modules replaced there by the mounts a host
 * of each kind has.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, compileDoc, generateAndUnpack, NAMESPACES, tempDir, testNeeding, text, type InventoryDoc } from './helpers.js';
import { runInSandbox } from './sandbox.js';

const ADDRESS = '127.0.4.1';

const node = (version: string, cluster: Record<string, unknown> = {}): InventoryDoc => ({
  cluster: { name: 'pre', kubernetesVersion: version, podSubnet: '10.244.0.0/16', kubeProxyMode: 'nftables', ...cluster },
  hosts: [
    { name: 'cp1', address: ADDRESS, roles: ['control-plane', 'etcd'] },
    { name: 'w1', address: '127.0.4.2', roles: ['worker'] },
  ],
});

/** A cgroup v1 host's /sys/fs/cgroup is a tmpfs of controller mounts (the sandbox's own host is a cgroup v2 one). */
const CGROUP_V1 = 'mount -t tmpfs cgroup-v1 /sys/fs/cgroup';
/** A kernel with nothing in its modules folder (everything built in, as in a container); the sandbox's /lib is an overlay. */
const NO_MODULES = 'mount -t tmpfs none /lib/modules';

async function preflight(doc: InventoryDoc, before: string[]) {
  const dir = tempDir();
  const path = join(dir, 'inventory.json');
  writeFileSync(path, JSON.stringify(doc));
  const gen = await generateAndUnpack(path);
  try {
    return runInSandbox(join(gen.unpacked, 'cp1'), ADDRESS, ['--only', 'preflight'], { before, kubelet: '', kubeadm: '' });
  } finally {
    cleanup(dir);
    cleanup(gen.dir);
  }
}

testNeeding([NAMESPACES], 'a 1.35+ node on cgroup v1 stops in preflight and names both ways out; on cgroup v2 it goes on', async () => {
  const v1 = await preflight(node('1.36.3'), [CGROUP_V1]);
  assert.is(v1.code, 1, v1.out + v1.err);
  assert.match(v1.err, 'this host runs cgroup v1 (tmpfs at /sys/fs/cgroup) and the kubelet of Kubernetes 1.36.3 refuses it');
  assert.match(v1.err, 'systemd.unified_cgroup_hierarchy=1');
  assert.match(v1.err, 'cluster.allowCgroupV1: true');
  const v2 = await preflight(node('1.36.3'), []);
  assert.is(v2.code, 0, v2.out + v2.err);
  assert.not.match(v2.err, 'cgroup v1');
});

testNeeding([NAMESPACES], 'cluster.allowCgroupV1 lets a 1.35+ node on cgroup v1 through with a warning; before 1.35 v1 is only a warning', async () => {
  const allowed = await preflight(node('1.35.4', { allowCgroupV1: true }), [CGROUP_V1]);
  assert.is(allowed.code, 0, allowed.out + allowed.err);
  assert.match(allowed.err, 'accepted by cluster.allowCgroupV1 (kubelet failCgroupV1: false, kubeadm ignores SystemVerification)');
  const older = await preflight(node('1.34.2'), [CGROUP_V1]);
  assert.is(older.code, 0, older.out + older.err);
  assert.match(older.err, 'Kubernetes 1.35 and later refuse it unless cluster.allowCgroupV1 is set');
});

testNeeding([NAMESPACES], 'ipvs mode on a kernel without IPVS stops in preflight; with an ip_vs module listed it goes on', async () => {
  // This kernel has no IPVS loaded (no /proc/net/ip_vs): the modules folder decides. CI's machines are of this kind.
  assert.not.ok(existsSync('/proc/net/ip_vs'), 'this test needs a kernel without IPVS loaded');
  const none = await preflight(node('1.34.2', { kubeProxyMode: 'ipvs' }), [NO_MODULES]);
  assert.is(none.code, 1, none.out + none.err);
  assert.match(none.err, 'kube-proxy runs in ipvs mode (cluster.kubeProxyMode) but this kernel');
  assert.match(none.err, 'set cluster.kubeProxyMode to nftables or iptables');
  const module = `${NO_MODULES} && mkdir -p /lib/modules/$(uname -r) && echo 'kernel/net/netfilter/ipvs/ip_vs.ko.xz: kernel/net/netfilter/nf_conntrack.ko.xz' >/lib/modules/$(uname -r)/modules.dep`;
  const loadable = await preflight(node('1.34.2', { kubeProxyMode: 'ipvs' }), [module]);
  assert.is(loadable.code, 0, loadable.out + loadable.err);
  const nft = await preflight(node('1.34.2'), [NO_MODULES]);
  assert.is(nft.code, 0, nft.out + nft.err);
});

/** A kernel without nf_tables: no module listed (NO_MODULES), no kernel config to read, and an nft that cannot list tables. */
const NO_NF_TABLES = [NO_MODULES, 'mount --bind /dev/null /proc/config.gz', 'mount --bind /bin/false "$(command -v nft)"'];
/** RHEL 8's kernel, older than kube-proxy's floor for nftables mode (5.13). */
const OLD_KERNEL = `u=$(mktemp) && printf '#!/bin/sh\\n[ "$1" = -r ] && echo 4.18.0-553.el8_10.x86_64 || echo Linux\\n' >"$u" && chmod +x "$u" && mount --bind "$u" "$(command -v uname)"`;

testNeeding(
  [NAMESPACES],
  'nftables mode (the default from 1.33) stops in preflight on a kernel without nf_tables or older than 5.13, naming kubeProxyMode: iptables',
  async () => {
    assert.not.ok(existsSync('/sys/module/nf_tables'), 'this test needs nf_tables built in without a /sys/module entry (or not loaded)');
    const fix = "set cluster.kubeProxyMode: iptables in the inventory (nftables is kubeha's default from Kubernetes 1.33) and generate again";
    const none = await preflight(node('1.36.3', { kubeProxyMode: undefined }), NO_NF_TABLES);
    assert.is(none.code, 1, none.out + none.err);
    assert.match(none.err, "kube-proxy's nftables mode needs nf_tables in the kernel and this kernel");
    assert.match(none.err, fix);
    const old = await preflight(node('1.36.3', { kubeProxyMode: undefined }), [OLD_KERNEL]);
    assert.is(old.code, 1, old.out + old.err);
    assert.match(old.err, "kube-proxy's nftables mode needs Linux 5.13 or later and this kernel is 4.18.0-553.el8_10.x86_64");
    assert.match(old.err, fix);
    const iptables = await preflight(node('1.36.3', { kubeProxyMode: 'iptables' }), [...NO_NF_TABLES, OLD_KERNEL]);
    assert.is(iptables.code, 0, iptables.out + iptables.err);
  },
);

testNeeding(
  [NAMESPACES],
  'a module whose feature is in the kernel is not modprobed: overlay and br_netfilter built in, no /lib/modules, no /sys/module',
  async () => {
    const dir = tempDir();
    const path = join(dir, 'inventory.json');
    writeFileSync(path, JSON.stringify(node('1.34.2')));
    const gen = await generateAndUnpack(path);
    try {
      const r = runInSandbox(join(gen.unpacked, 'w1'), '127.0.4.2', ['--only', 'os'], { before: [NO_MODULES, 'mount -t tmpfs none /sys/module'] });
      assert.is(r.code, 0, r.out + r.err);
      const modprobes = r.calls.filter((c) => c.startsWith('modprobe '));
      // With /sys/module hidden and no modules folder, a module is modprobed exactly when this kernel lacks its feature:
      // overlay when /proc/filesystems does not list it, br_netfilter when the sandbox's network namespace has no bridge
      // netfilter sysctls (this machine's kernel has both built in, as the booted hosts of e2e:cluster see it).
      const overlay = readFileSync('/proc/filesystems', 'utf8')
        .split('\n')
        .some((l) => l.split('\t')[1] === 'overlay');
      const bridge = existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables');
      assert.equal(modprobes, [...(overlay ? [] : ['modprobe overlay']), ...(bridge ? [] : ['modprobe br_netfilter'])]);
    } finally {
      cleanup(dir);
      cleanup(gen.dir);
    }
  },
);

test('cluster.allowCgroupV1 on 1.35+: failCgroupV1 false and only SystemVerification ignored, on init and join; nothing before 1.35 or without it', async () => {
  const cfg = async (doc: InventoryDoc, host: string) => text((await compileDoc(doc)).hosts, host, 'rootfs/etc/kubernetes/kubeadm-config.yaml');
  const init = await cfg(node('1.35.4', { allowCgroupV1: true }), 'cp1');
  assert.match(init, 'kind: KubeletConfiguration\ncgroupDriver: systemd\nfailCgroupV1: false\n');
  assert.match(init, '      value: 127.0.4.1\n  ignorePreflightErrors:\n    - SystemVerification\n');
  const join_ = await cfg(node('1.35.4', { allowCgroupV1: true }), 'w1');
  assert.match(join_, '  ignorePreflightErrors:\n    - SystemVerification\n');
  // kubeadm upgrade runs SystemVerification too (found by e2e:upgrade: upgrade apply 1.37.2 stopped on cgroup v1).
  const script = async (doc: InventoryDoc, host: string) => text((await compileDoc(doc)).hosts, host, 'run.sh');
  const accepted = await script(node('1.36.3', { allowCgroupV1: true }), 'cp1');
  assert.match(accepted, 'run kubeadm upgrade apply v1.36.3 --yes --etcd-upgrade=false --ignore-preflight-errors=SystemVerification\n');
  assert.match(accepted, 'run kubeadm upgrade plan v1.36.3 --ignore-preflight-errors=SystemVerification\n');
  assert.match(await script(node('1.36.3', { allowCgroupV1: true }), 'w1'), 'run kubeadm upgrade node --ignore-preflight-errors=SystemVerification\n');
  assert.not.match(await script(node('1.36.3'), 'cp1'), '--ignore-preflight-errors');
  for (const [doc, why] of [
    [node('1.34.2', { allowCgroupV1: true }), '1.34 needs no exception'],
    [node('1.36.3'), 'not asked for'],
  ] as const) {
    for (const host of ['cp1', 'w1']) {
      const c = await cfg(doc, host);
      assert.not.match(c, 'failCgroupV1', why);
      assert.not.match(c, 'ignorePreflightErrors', why);
    }
  }
});

test("cluster.kubelet.evictionHard: the kubelet's whole default set with the inventory's thresholds over it, in the settings kubeadm init uploads for every node; nothing without it", async () => {
  const cfg = async (doc: InventoryDoc, host: string) => text((await compileDoc(doc)).hosts, host, 'rootfs/etc/kubernetes/kubeadm-config.yaml');
  const given = node('1.36.3', { kubelet: { evictionHard: { 'imagefs.available': '2Gi', 'nodefs.available': '5%', 'pid.available': '10%' } } });
  const expected =
    'kind: KubeletConfiguration\ncgroupDriver: systemd\nevictionHard:\n' +
    '  imagefs.available: 2Gi\n  imagefs.inodesFree: 5%\n  memory.available: 100Mi\n  nodefs.available: 5%\n  nodefs.inodesFree: 5%\n  pid.available: 10%\n';
  assert.match(await cfg(given, 'cp1'), expected);
  assert.not.match(await cfg(given, 'w1'), 'KubeletConfiguration', 'a joining node takes the settings init uploaded');
  for (const doc of [node('1.36.3'), node('1.36.3', { kubelet: {} }), node('1.36.3', { kubelet: { evictionHard: {} } })])
    assert.match(await cfg(doc, 'cp1'), 'kind: KubeletConfiguration\ncgroupDriver: systemd\n---');
});

testNeeding(
  [NAMESPACES],
  'the packages phase installs cri-tools (crictl), which pkgs.k8s.io packages no longer pull in; without crictl a changed etcd client certificate stops run.sh',
  async () => {
    const dir = tempDir();
    const path = join(dir, 'inventory.json');
    writeFileSync(path, JSON.stringify(node('1.36.3')));
    const gen = await generateAndUnpack(path);
    try {
      const packages = runInSandbox(join(gen.unpacked, 'w1'), '127.0.4.2', ['--only', 'packages'], { containerd: '2.2.9' });
      assert.is(packages.code, 0, packages.out + packages.err);
      const installs = packages.calls.filter((c) => c.startsWith('apt-get ') && c.includes(' install '));
      assert.ok(
        installs.some((c) => c.split(' ').includes('cri-tools')),
        installs.join('\n'),
      );
      // A control plane whose etcd client certificate changed since kube-apiserver last started, and no crictl.
      const stamp = '/var/lib/kubeha/applied/kube-apiserver.etcd-client';
      const restart = runInSandbox(join(gen.unpacked, 'cp1'), ADDRESS, ['--only', 'kubeadm'], {
        kubelet: '1.36.3',
        kubeadm: '1.36.3',
        absent: ['crictl'],
        installed: ['/etc/kubernetes/kubeadm-config.yaml'],
        files: {
          '/etc/kubernetes/kubelet.conf': 'x',
          '/var/lib/kubeha/kubeadm-done': '',
          '/etc/kubernetes/manifests/kube-apiserver.yaml': 'x',
          [stamp]: 'an older digest',
        },
      });
      assert.is(restart.code, 1, restart.out + restart.err);
      assert.match(restart.err, 'crictl (cri-tools) is not installed: kube-apiserver cannot be restarted with its new etcd client certificate');
    } finally {
      cleanup(dir);
      cleanup(gen.dir);
    }
  },
);

test.run();
