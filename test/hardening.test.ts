/**
 * run.sh on real hosts (issue 11, items 15, 16, 19, 20, 22): the host check under --only, etcd versions kubeadm accepts,
 * firewalld and SELinux on RHEL-like hosts, recovery from a failed kubeadm init/join, taints, ufw's VRRP rule and the
 * cri-dockerd checksum. Scripts run for real where that is safe (PATH stubs log the commands they would run).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, generateAndUnpack, modelOf, REPO, tempDir, type InventoryDoc, NAMESPACES, testNeeding, canMakeNamespaces } from './helpers.js';
import { changes, runInSandbox, type NodeState } from './sandbox.js';

const small = (k8s: string, etcd: Record<string, unknown>): InventoryDoc => ({
  cluster: { name: 'hard', kubernetesVersion: k8s, podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' },
  etcd,
  hosts: [
    { name: 'cp1', address: '127.0.3.1', roles: ['control-plane'] },
    { name: 'etcd1', address: '127.0.3.2', roles: ['etcd'] },
  ],
});

/** Writes an inventory object to a temp file, generates and unpacks its bundles. */
async function bundlesOf(doc: InventoryDoc) {
  const dir = tempDir();
  const path = join(dir, 'inventory.json');
  writeFileSync(path, JSON.stringify(doc));
  const gen = await generateAndUnpack(path);
  return {
    ...gen,
    cleanup: () => {
      cleanup(dir);
      cleanup(gen.dir);
    },
  };
}

const runSh = (bundle: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
  const r = spawnSync('bash', [join(bundle, 'run.sh'), ...args], { encoding: 'utf8', timeout: 60_000, env });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('--only without preflight still refuses the wrong host (item 15); --dry-run only warns', async () => {
  const gen = await generateAndUnpack(join(REPO, 'examples', 'runbook.json'));
  try {
    // worker2 has no addons step: before the fix this exited 0 on any machine.
    // In the sandbox (when namespaces are available) so that nothing, not even run.log, is written on this machine.
    const wrong = canMakeNamespaces()
      ? runInSandbox(join(gen.unpacked, 'worker2'), '127.0.9.9', ['--only', 'addons'], {})
      : runSh(join(gen.unpacked, 'worker2'), ['--only', 'addons']);
    assert.is(wrong.code, 1, wrong.out + wrong.err);
    assert.match(wrong.err, 'this machine does not have 10.0.8.12: this bundle is for worker2; run it there');
    assert.not.match(wrong.out, 'phase addons');
    const dry = runSh(join(gen.unpacked, 'worker2'), ['--dry-run', '--only', 'addons']);
    assert.is(dry.code, 0, dry.err);
    assert.match(dry.err, 'warning: this machine does not have 10.0.8.12');
  } finally {
    cleanup(gen.dir);
  }
});

test("etcd release older than kubeadm's external-etcd minimum is refused at /etcd/version (item 20)", () => {
  assert.throws(
    () => modelOf(small('1.34.2', { version: '3.5.21' })),
    (e: Error) =>
      e.message.includes('inventory.json /etcd/version: kubeadm 1.34.2 refuses an external etcd older than 3.5.24') &&
      e.message.includes('3.5.24, 3.5.25, 3.5.26, 3.5.27'),
  );
  modelOf(small('1.34.2', { version: '3.5.24' }));
  modelOf(small('1.31.4', { version: '3.5.21' }));
  modelOf(small('1.34.2', { version: '3.5.21', install: 'distro' })); // checked on the host instead
  // The floor is kubeadm's MinExternalEtcdVersion of that very patch (constants.go of each module): 3.5.11-0 up to
  // v1.31.13, v1.32.9 and v1.33.5, 3.5.21-0 in v1.34.0-v1.34.1, then 3.5.24-0.
  modelOf(small('1.31.13', { version: '3.5.21' }));
  modelOf(small('1.34.1', { version: '3.5.21' }));
  for (const version of ['1.31.14', '1.32.10', '1.33.6', '1.34.2'])
    assert.throws(
      () => modelOf(small(version, { version: '3.5.21' })),
      (e: Error) => e.message.includes(`inventory.json /etcd/version: kubeadm ${version} refuses an external etcd older than 3.5.24`),
      version,
    );
});

testNeeding(['etcd'], 'distro etcd: run.sh compares the installed etcd with the minimum (real /usr/bin/etcd of this machine)', async () => {
  const have = spawnSync('etcd', ['--version'], { encoding: 'utf8' }).stdout.match(/etcd Version: (\S+)/)![1]!;
  const refused = await bundlesOf(small('1.34.2', { install: 'distro' }));
  const refused131 = await bundlesOf(small('1.31.4', { install: 'distro' }));
  const accepted = await bundlesOf(small('1.30.14', { install: 'distro' }));
  try {
    const r = runSh(join(refused.unpacked, 'etcd1'), ['--dry-run', '--only', 'packages']);
    if (have.startsWith('3.4.')) {
      assert.is(r.code, 1, r.out);
      assert.match(
        r.err,
        `the OS package gives etcd ${have}, older than 3.5.24, which kubeadm 1.34.2 requires of an external etcd: set etcd.install to release`,
      );
    }
    if (have.startsWith('3.4.')) {
      // kubeadm 1.31.4's MinExternalEtcdVersion is 3.5.11-0; 1.30's is 3.4.13-4, which Debian 12's etcd (3.4.23) meets.
      const r131 = runSh(join(refused131.unpacked, 'etcd1'), ['--dry-run', '--only', 'packages']);
      assert.is(r131.code, 1, r131.out);
      assert.match(r131.err, `older than 3.5.11, which kubeadm 1.31.4 requires of an external etcd`);
    }
    const ok = runSh(join(accepted.unpacked, 'etcd1'), ['--dry-run', '--only', 'packages']);
    assert.is(ok.code, 0, ok.err);
  } finally {
    refused.cleanup();
    refused131.cleanup();
    accepted.cleanup();
  }
});

/** State of a control plane that joined at 1.34.2 with the given taints, its kubeadm-config.yaml installed. */
const joinedControlPlane = (taints: string): NodeState => ({
  kubelet: '1.34.2',
  kubeadm: '1.34.2',
  api: '1.34.2',
  taints,
  installed: ['/etc/kubernetes/kubeadm-config.yaml'],
  files: {
    '/etc/kubernetes/kubelet.conf': 'k\n',
    '/etc/kubernetes/admin.conf': 'a\n',
    '/etc/kubernetes/manifests/kube-apiserver.yaml': 'image: kube-apiserver:v1.34.2\n',
  },
});

testNeeding([NAMESPACES], 'control-plane taints follow the roles on running control planes, idempotently (item 22)', async () => {
  const withWorker = small('1.34.2', { version: '3.5.24' });
  withWorker.hosts.push({ name: 'w1', address: '127.0.3.3', roles: ['worker'] });
  const tainted = await bundlesOf(withWorker);
  const untainted = await bundlesOf(small('1.34.2', { version: '3.5.24' }));
  const taint = 'node-role.kubernetes.io/control-plane:NoSchedule';
  try {
    const cases = [
      [tainted, '', [`kubectl --kubeconfig /etc/kubernetes/admin.conf taint node cp1 ${taint} --overwrite`]],
      [tainted, `${taint} `, []],
      [untainted, `${taint} `, [`kubectl --kubeconfig /etc/kubernetes/admin.conf taint node cp1 ${taint}-`]],
      [untainted, '', []],
    ] as const;
    for (const [gen, now, expected] of cases) {
      const r = runInSandbox(join(gen.unpacked, 'cp1'), '127.0.3.1', ['--only', 'kubeadm'], joinedControlPlane(now));
      assert.is(r.code, 0, r.out + r.err);
      assert.equal(
        changes(r.calls).filter((c) => c.includes(' taint ')),
        [...expected],
        `taints now: "${now}"`,
      );
    }
  } finally {
    tainted.cleanup();
    untainted.cleanup();
  }
});

const UBUNTU_BEFORE_RULES_END = `# allow MULTICAST mDNS for service discovery
-A ufw-before-input -p udp -d 224.0.0.251 --dport 5353 -j ACCEPT

# don't delete the 'COMMIT' line or these rules won't be processed
COMMIT
`;

testNeeding(
  [NAMESPACES],
  'ufw: VRRP as a raw before.rules rule ufw 0.36.1 accepts, once; firewalld: trusted pod and service ranges (items 16, 22)',
  async () => {
    const doc = small('1.34.2', { version: '3.5.24' });
    doc.loadBalancer = { vip: '127.0.3.100' };
    doc.hosts.push({ name: 'lb1', address: '127.0.3.5', roles: ['loadbalancer'] });
    const gen = await bundlesOf(doc);
    try {
      const ufw = (rules: string) =>
        runInSandbox(join(gen.unpacked, 'lb1'), '127.0.3.5', ['--only', 'os'], {
          absent: ['firewall-cmd'],
          files: { '/etc/ufw/before.rules': rules },
          readBack: ['/etc/ufw/before.rules'],
        });
      const first = ufw(UBUNTU_BEFORE_RULES_END);
      assert.is(first.code, 0, first.out + first.err);
      const rules = first.back[0]!;
      assert.ok(rules.endsWith(`-A ufw-before-input -p 112 -j ACCEPT\n# don't delete the 'COMMIT' line or these rules won't be processed\nCOMMIT\n`), rules);
      assert.not.ok(
        first.calls.some((c) => c.includes('proto vrrp')),
        'no ufw allow proto vrrp',
      );
      assert.ok(first.calls.includes('ufw reload'));
      assert.ok(first.calls.includes('ufw allow 16443/tcp'), first.calls.join('\n'));
      const again = ufw(rules);
      assert.is(again.code, 0, again.err);
      assert.is(again.back[0], rules, 'a second run adds nothing');
      assert.not.ok(again.calls.includes('ufw reload'));
      const firewalld = runInSandbox(join(gen.unpacked, 'cp1'), '127.0.3.1', ['--only', 'os'], {});
      assert.is(firewalld.code, 0, firewalld.out + firewalld.err);
      for (const source of ['10.244.0.0/16', '10.96.0.0/16'])
        assert.ok(firewalld.calls.includes(`firewall-cmd --permanent --zone=trusted --add-source=${source}`), firewalld.calls.join('\n'));
      assert.ok(firewalld.calls.includes('firewall-cmd --reload'));
    } finally {
      gen.cleanup();
    }
  },
);

testNeeding(
  [NAMESPACES],
  'a failed kubeadm init/join: reset when this script started it, adopt a registered node, else say what to run (item 19)',
  async () => {
    const gen = await bundlesOf(small('1.34.2', { version: '3.5.24' }));
    const done = '/var/lib/kubeha/kubeadm-done';
    const partial = (more: Partial<NodeState>): NodeState => ({
      api: '1.34.2',
      installed: ['/etc/kubernetes/kubeadm-config.yaml'],
      readBack: [done, '/etc/kubernetes/pki/ca.key'],
      files: { '/etc/kubernetes/admin.conf': 'a\n', '/etc/kubernetes/manifests/kube-apiserver.yaml': 'x\n' },
      ...more,
    });
    try {
      const cp1 = (state: NodeState) => runInSandbox(join(gen.unpacked, 'cp1'), '127.0.3.1', ['--only', 'kubeadm'], state);
      // Started by run.sh and never finished: reset (external etcd untouched), files again, init again, then recorded.
      const reset = cp1(partial({ files: { '/etc/kubernetes/admin.conf': 'a\n', '/var/lib/kubeha/kubeadm-started': '' } }));
      assert.is(reset.code, 0, reset.out + reset.err);
      assert.match(reset.err, 'kubeadm init started by an earlier run did not complete (found /etc/kubernetes/admin.conf): resetting this node');
      const c = changes(reset.calls);
      assert.ok(c.indexOf('kubeadm reset -f --cri-socket unix:///var/run/containerd/containerd.sock') >= 0, c.join('\n'));
      assert.ok(
        c.indexOf('kubeadm reset -f --cri-socket unix:///var/run/containerd/containerd.sock') <
          c.indexOf('kubeadm init --config /etc/kubernetes/kubeadm-config.yaml --skip-token-print'),
        c.join('\n'),
      );
      assert.match(reset.out, 'installed /etc/kubernetes/pki/ca.key (0600)');
      assert.is(reset.back[0], '', 'recorded as done after kubeadm init succeeded');
      assert.ok(reset.back[1]!.includes('PRIVATE KEY'), 'the CA key is installed again after the reset');
      // Not started by run.sh (kubeha before stamps, or by hand) and the node is registered: recorded, nothing redone.
      const adopted = cp1(partial({}));
      assert.is(adopted.code, 0, adopted.err);
      assert.match(adopted.out, 'node cp1 is registered in the cluster: recording its kubeadm init as done');
      assert.not.ok(changes(adopted.calls).some((x) => /^kubeadm (reset|init --config)/.test(x)));
      assert.is(adopted.back[0], '');
      // Not started by run.sh and unknown to the cluster: refuse, with the exact commands.
      const refused = cp1(partial({ nodeMissing: true }));
      assert.is(refused.code, 1, refused.out);
      assert.match(
        refused.err,
        "if it never joined, run 'kubeadm reset -f --cri-socket unix:///var/run/containerd/containerd.sock' here and then this script again; if it is a working node, run 'install -d /var/lib/kubeha && touch /var/lib/kubeha/kubeadm-done'",
      );
      assert.not.ok(changes(refused.calls).some((x) => x.startsWith('kubeadm reset') || x.startsWith('kubeadm init --config')));
      assert.is(refused.back[0], null);
      // A failing kubeadm init leaves the started record, not the done one.
      const failing = cp1({
        api: '1.34.2',
        etcd: '3.5.24',
        installed: ['/etc/kubernetes/kubeadm-config.yaml'],
        absent: ['kubeadm'],
        readBack: [done, '/var/lib/kubeha/kubeadm-started'],
      });
      assert.is(failing.code, 1, failing.out);
      assert.is(failing.back[0], null);
      assert.is(failing.back[1], '');
    } finally {
      gen.cleanup();
    }
  },
);

testNeeding(
  [NAMESPACES],
  'containerd: containerd.io from download.docker.com replaces one older than Kubernetes supports (Debian 12: 1.6.20), else refuses (item 20)',
  async () => {
    const gen = await bundlesOf(small('1.34.2', { version: '3.5.24' }));
    try {
      const packages = (containerd: string) =>
        runInSandbox(join(gen.unpacked, 'cp1'), '127.0.3.1', ['--only', 'packages'], { containerd, readBack: ['/etc/apt/sources.list.d/docker.list'] }, 120);
      const old = packages('1.6.20');
      assert.is(old.code, 1, old.out);
      assert.match(old.out, 'containerd 1.6.20 is older than 1.7.20 (Kubernetes 1.34.2): installing containerd.io');
      assert.ok(changes(old.calls).includes('apt-get -o DPkg::Lock::Timeout=300 install -y containerd.io'), changes(old.calls).join('\n'));
      assert.ok(old.calls.some((c) => c.startsWith('curl') && c.includes('https://download.docker.com/linux/debian/gpg')));
      assert.match(old.back[0]!, /^deb \[signed-by=\/etc\/apt\/keyrings\/docker.asc\] https:\/\/download.docker.com\/linux\/debian \S+ stable\n$/);
      // The stub still reports 1.6.20 after the install: run.sh refuses rather than start Kubernetes on it.
      assert.match(old.err, 'containerd 1.6.20 is installed but Kubernetes 1.34.2 needs 1.7.20 or later');
      const recent = packages('2.1.4');
      assert.is(recent.code, 0, recent.err);
      assert.not.ok(
        changes(recent.calls).some((c) => c.includes('containerd.io')),
        changes(recent.calls).join('\n'),
      );
    } finally {
      gen.cleanup();
    }
  },
);

testNeeding(
  [NAMESPACES],
  'a dpkg that a killed run left running: run.sh waits while dpkg --configure -a says its lock is held (exit 2), then installs; another failure stops it',
  async () => {
    const gen = await bundlesOf(small('1.34.2', { version: '3.5.24' }));
    try {
      const interrupted = ['mkdir -p /var/lib/dpkg/updates', 'echo journal >/var/lib/dpkg/updates/0001'];
      const packages = (exit: number) =>
        runInSandbox(
          join(gen.unpacked, 'cp1'),
          '127.0.3.1',
          ['--only', 'packages'],
          { containerd: '1.6.20', before: interrupted, dpkgConfigure: { times: 2, exit } },
          120,
        );
      const locked = packages(2);
      const configures = changes(locked.calls).filter((c) => c === 'dpkg --configure -a');
      assert.is(configures.length, 3, locked.calls.join('\n'));
      const install = changes(locked.calls).indexOf('apt-get -o DPkg::Lock::Timeout=300 install -y containerd.io');
      assert.ok(install > changes(locked.calls).lastIndexOf('dpkg --configure -a'), 'apt installs only once dpkg finished');
      assert.not.match(locked.err, 'dpkg --configure -a failed');
      const broken = packages(1);
      assert.is(broken.code, 1);
      assert.match(broken.err, 'dpkg --configure -a failed (exit 1, after 0s of waiting');
      assert.not.ok(
        broken.calls.some((c) => c.includes('install -y containerd.io')),
        'nothing installed after dpkg failed',
      );
    } finally {
      gen.cleanup();
    }
  },
);

test.run();
