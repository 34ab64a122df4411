/**
 * Kubernetes upgrades, run for real without kubeadm: each role's run.sh (phases packages, files and kubeadm, with
 * preflight) in a sandbox whose kubeadm/kubelet/kubectl/apt/systemctl/curl are logging stubs, for every path: fresh
 * install, re-run, patch upgrade, minor upgrade, refused skip, refused downgrade.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canMakeNamespaces, cleanup, generateAndUnpack, NAMESPACES, tempDir, testNeeding, type InventoryDoc } from './helpers.js';
import { changes, runInSandbox, type NodeState } from './sandbox.js';

const TARGET = '1.34.2';
const HOSTS = { cp1: '127.0.4.1', cp2: '127.0.4.2', w1: '127.0.4.3' } as const;
type Node = keyof typeof HOSTS;

const inventory = (version: string): InventoryDoc => ({
  cluster: { name: 'up', kubernetesVersion: version, podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' },
  loadBalancer: { vip: '127.0.4.100' },
  etcd: { version: '3.5.24' },
  hosts: [
    { name: 'cp1', address: HOSTS.cp1, roles: ['control-plane'] },
    { name: 'cp2', address: HOSTS.cp2, roles: ['control-plane'] },
    { name: 'w1', address: HOSTS.w1, roles: ['worker'] },
    { name: 'etcd1', address: '127.0.4.4', roles: ['etcd'] },
  ],
});

/** A node that joined the cluster at `version` (kubeadm and kubelet at it, its kubeconfigs and manifests in place). */
function joined(node: Node, version: string, more: Partial<NodeState> = {}): NodeState {
  const files: Record<string, string> = { '/etc/kubernetes/kubelet.conf': 'kubelet\n' };
  if (node !== 'w1') {
    files['/etc/kubernetes/admin.conf'] = 'admin\n';
    files['/etc/kubernetes/manifests/kube-apiserver.yaml'] = `    image: registry.k8s.io/kube-apiserver:v${version}\n`;
  }
  return { kubelet: version, kubeadm: version, api: TARGET, etcd: '3.5.24', cordoned: true, files, nodeReady: `v${TARGET} True`, ...more };
}

let gen: { dir: string; unpacked: string } | null = null;
let inventoryDir = '';

test.before(async () => {
  if (!canMakeNamespaces()) return; // the tests below register as skipped (or failed under CI)
  inventoryDir = tempDir();
  const path = join(inventoryDir, 'inventory.json');
  writeFileSync(path, JSON.stringify(inventory(TARGET)));
  gen = await generateAndUnpack(path);
});

test.after(() => {
  if (gen) cleanup(gen.dir);
  if (inventoryDir) cleanup(inventoryDir);
});

/** Runs the kubeadm phase (and preflight) of a node's bundle, its kubeadm-config.yaml in place; `phases` adds others. */
const run = (node: Node, state: NodeState, timeout?: number, phases = 'kubeadm') =>
  runInSandbox(
    join(gen!.unpacked, node),
    HOSTS[node],
    ['--only', phases],
    { installed: ['/etc/kubernetes/kubeadm-config.yaml'], containerd: '2.1.4', ...state },
    timeout,
  );

/** Asserts that `wanted` appear in `calls` in this order (other calls may come between). */
function inOrder(calls: readonly string[], wanted: readonly string[]) {
  let at = 0;
  for (const w of wanted) {
    const i = calls.findIndex((c, j) => j >= at && c.startsWith(w));
    assert.ok(i >= 0, `missing (in order) "${w}" in:\n${calls.join('\n')}`);
    at = i + 1;
  }
}

const kubePackageInstalls = (calls: readonly string[]) => calls.filter((c) => /^apt-get .*install .*(kubelet|kubeadm|kubectl)=/.test(c));

testNeeding([NAMESPACES], 'fresh install: packages at the target version, then kubeadm init (cp1) or join (cp2, w1)', () => {
  if (!gen) throw new Error('the bundles were not generated (see test.before)');
  for (const node of ['cp1', 'cp2', 'w1'] as const) {
    const r = run(node, { api: TARGET, etcd: '3.5.24' }, 120, 'packages,kubeadm');
    assert.is(r.code, 0, `${node}: ${r.out}${r.err}`);
    assert.match(r.out, `Kubernetes on this node: not installed; bundle: ${TARGET}; action: install`);
    const c = changes(r.calls);
    assert.equal(kubePackageInstalls(c), [
      `apt-get -o DPkg::Lock::Timeout=300 install -y --allow-change-held-packages kubelet=${TARGET}-* kubeadm=${TARGET}-* kubectl=${TARGET}-*`,
    ]);
    assert.ok(
      c.includes(
        node === 'cp1'
          ? 'kubeadm init --config /etc/kubernetes/kubeadm-config.yaml --skip-token-print'
          : 'kubeadm join --config /etc/kubernetes/kubeadm-config.yaml',
      ),
      c.join('\n'),
    );
    assert.not.ok(
      c.some((x) => x.startsWith('kubeadm upgrade')),
      node,
    );
  }
});

testNeeding([NAMESPACES], 're-run at the target version: nothing to install, init, join or upgrade', () => {
  if (!gen) throw new Error('the bundles were not generated (see test.before)');
  for (const node of ['cp1', 'cp2', 'w1'] as const) {
    const r = run(node, joined(node, TARGET));
    assert.is(r.code, 0, `${node}: ${r.out}${r.err}`);
    assert.match(r.out, `Kubernetes on this node: ${TARGET}; bundle: ${TARGET}; action: none`);
    const c = changes(r.calls);
    assert.equal(kubePackageInstalls(c), [], node);
    assert.not.ok(
      c.some((x) => /^kubeadm (init|join|upgrade)|drain|restart kubelet/.test(x)),
      `${node}:\n${c.join('\n')}`,
    );
  }
});

for (const [kind, from] of [
  ['patch', '1.34.1'],
  ['minor', '1.33.5'],
] as const) {
  testNeeding(
    [NAMESPACES],
    `${kind} upgrade from ${from}: cp1 upgrade apply, cp2 upgrade node after cp1, w1 after every control plane; each drained around its kubelet`,
    () => {
      if (!gen) throw new Error('the bundles were not generated (see test.before)');
      const cp1 = run('cp1', joined('cp1', from), 120, 'packages,kubeadm');
      assert.is(cp1.code, 0, cp1.out + cp1.err);
      assert.match(cp1.out, `Kubernetes on this node: ${from}; bundle: ${TARGET}; action: upgrade`);
      const c1 = changes(cp1.calls);
      inOrder(c1, [
        'apt-mark unhold kubeadm',
        `apt-get -o DPkg::Lock::Timeout=300 install -y --allow-change-held-packages kubeadm=${TARGET}-*`,
        'apt-mark hold kubeadm',
        `kubeadm upgrade plan v${TARGET}`,
        'kubeadm init phase upload-config kubeadm --config /etc/kubernetes/kubeadm-config.yaml',
        'kubeadm init phase upload-config kubelet --config /etc/kubernetes/kubeadm-config.yaml',
        `kubeadm upgrade apply v${TARGET} --yes --etcd-upgrade=false`,
        'kubectl --kubeconfig /etc/kubernetes/admin.conf drain cp1 --ignore-daemonsets --delete-emptydir-data',
        'apt-mark unhold kubelet kubectl',
        `apt-get -o DPkg::Lock::Timeout=300 install -y --allow-change-held-packages kubelet=${TARGET}-* kubectl=${TARGET}-*`,
        'apt-mark hold kubelet kubectl',
        'systemctl daemon-reload',
        'systemctl restart kubelet',
        'kubectl --kubeconfig /etc/kubernetes/admin.conf uncordon cp1',
      ]);
      assert.match(cp1.out, '+ rm -f /var/lib/kubeha/upgrade', 'the upgrade record goes once the node is back');
      // kube-proxy (and CoreDNS, kubeadm's) only once every control plane is upgraded: on cp2, the last one.
      assert.not.ok(
        c1.some((x) => x.includes('phase addon kube-proxy')),
        c1.join('\n'),
      );
      // The packages phase no longer upgrades the kubelet in place: the only kube package installs are the upgrade's.
      assert.is(kubePackageInstalls(c1).length, 2, c1.join('\n'));
      assert.ok(
        cp1.calls.some((c) => c.startsWith('curl') && c.includes('https://127.0.4.4:2379/version')),
        'etcd version checked',
      );
      assert.not.ok(c1.some((x) => /^kubeadm (init --config|join)/.test(x)));

      const cp2 = run('cp2', joined('cp2', from));
      assert.is(cp2.code, 0, cp2.out + cp2.err);
      assert.ok(
        cp2.calls.some((c) => c.startsWith('curl') && c.includes('https://127.0.4.1:6443/version')),
        'cp2 checks the API server of cp1',
      );
      assert.not.ok(
        cp2.calls.some((c) => c.includes('https://127.0.4.2:6443/version')),
        'cp2 does not wait for itself',
      );
      inOrder(changes(cp2.calls), [
        `apt-get -o DPkg::Lock::Timeout=300 install -y --allow-change-held-packages kubeadm=${TARGET}-*`,
        'kubeadm upgrade node --etcd-upgrade=false',
        'kubeadm init phase addon kube-proxy --config /etc/kubernetes/kubeadm-addons.yaml',
        'kubectl --kubeconfig /etc/kubernetes/admin.conf drain cp2',
        `apt-get -o DPkg::Lock::Timeout=300 install -y --allow-change-held-packages kubelet=${TARGET}-* kubectl=${TARGET}-*`,
        'systemctl restart kubelet',
        'kubectl --kubeconfig /etc/kubernetes/admin.conf uncordon cp2',
      ]);
      assert.not.ok(changes(cp2.calls).some((x) => x.startsWith('kubeadm upgrade apply')));

      const w1 = run(
        'w1',
        joined('w1', from, {
          nodePods: ['default web-1 ReplicaSet <none> Running', 'kube-system kube-proxy-x DaemonSet <none> Running', 'default done Job <none> Succeeded'],
        }),
      );
      assert.is(w1.code, 0, w1.out + w1.err);
      for (const cp of [HOSTS.cp1, HOSTS.cp2])
        assert.ok(
          w1.calls.some((c) => c.startsWith('curl') && c.includes(`https://${cp}:6443/version`)),
          `w1 checks ${cp}`,
        );
      // A worker drains itself with its kubelet's credentials: cordon, evict what is not a DaemonSet's or finished.
      inOrder(changes(w1.calls), [
        `apt-get -o DPkg::Lock::Timeout=300 install -y --allow-change-held-packages kubeadm=${TARGET}-*`,
        'kubeadm upgrade node',
        'kubectl --kubeconfig /etc/kubernetes/kubelet.conf cordon w1',
        'kubectl --kubeconfig /etc/kubernetes/kubelet.conf create --raw /api/v1/namespaces/default/pods/web-1/eviction -f -',
        `apt-get -o DPkg::Lock::Timeout=300 install -y --allow-change-held-packages kubelet=${TARGET}-* kubectl=${TARGET}-*`,
        'systemctl restart kubelet',
        'kubectl --kubeconfig /etc/kubernetes/kubelet.conf uncordon w1',
      ]);
      assert.equal(w1.calls.filter((c) => c.includes('/eviction')).length, 1, 'the DaemonSet pod and the finished one are not evicted');
    },
  );
}

testNeeding([NAMESPACES], 'minor upgrade refused while etcd is older than the new minimum; nothing changed', () => {
  if (!gen) throw new Error('the bundles were not generated (see test.before)');
  const r = run('cp1', joined('cp1', '1.33.5', { etcd: '3.5.21' }));
  assert.is(r.code, 1, r.out);
  assert.match(r.err, 'etcd at https://127.0.4.4:2379/version runs 3.5.21; kubeadm 1.34.2 requires 3.5.24 or later of an external etcd');
  assert.not.ok(changes(r.calls).some((x) => x.startsWith('kubeadm upgrade') || x.includes('kubeadm=')));
});

testNeeding([NAMESPACES], 'a control plane waits (bounded) while the API server before it is older', () => {
  if (!gen) throw new Error('the bundles were not generated (see test.before)');
  const r = run('cp2', joined('cp2', '1.33.5', { api: '1.33.5' }), 45);
  assert.is.not(r.code, 0);
  assert.match(r.out, 'waiting up to 1800s for the API servers of cp1 to run v1.34.2 (run their bundles first, one control plane at a time)');
  assert.not.ok(
    changes(r.calls).some((x) => x.startsWith('kubeadm upgrade') || x.includes('kubeadm=')),
    changes(r.calls).join('\n'),
  );
});

for (const [kind, from, message] of [
  ['skip', '1.32.9', 'this node runs Kubernetes 1.32.9 and the bundle is for 1.34.2: kubeadm upgrades one minor version at a time'],
  ['downgrade', '1.35.0', 'this node runs Kubernetes 1.35.0 (kubeadm 1.35.0) and the bundle is for 1.34.2: kubeadm cannot downgrade a cluster'],
] as const) {
  testNeeding([NAMESPACES], `refused ${kind} (${from} -> ${TARGET}) on every role, before anything changes`, () => {
    if (!gen) throw new Error('the bundles were not generated (see test.before)');
    for (const node of ['cp1', 'cp2', 'w1'] as const) {
      const r = run(node, joined(node, from));
      assert.is(r.code, 1, `${node}: ${r.out}`);
      assert.match(r.err, message);
      assert.equal(changes(r.calls), [], node);
    }
  });
}

testNeeding([NAMESPACES], 'a node whose kubelet does not come back Ready at the new version stays cordoned and the run stops with why', () => {
  if (!gen) throw new Error('the bundles were not generated (see test.before)');
  const r = run('cp2', joined('cp2', '1.33.5', { nodeReady: 'v1.33.5 False', env: { KUBEHA_NODE_READY_WAIT: '4' } }));
  assert.is(r.code, 1, r.out + r.err);
  assert.match(r.err, 'cp2 is not Ready at v1.34.2 4s after its kubelet restarted: it stays cordoned');
  const c = changes(r.calls);
  assert.ok(c.includes('systemctl restart kubelet'), c.join('\n'));
  assert.not.ok(
    c.some((x) => x.includes('uncordon')),
    c.join('\n'),
  );
  assert.not.match(r.out, 'rm -f /var/lib/kubeha/upgrade', 'the upgrade stays recorded');
});

testNeeding([NAMESPACES], 'a run killed mid-upgrade resumes from its record: kubelet already new, node still cordoned: Ready, uncordoned', () => {
  if (!gen) throw new Error('the bundles were not generated (see test.before)');
  // Killed after kubeadm upgrade node and the kubelet restart, before the uncordon: the binaries say "nothing to do".
  const record = `${TARGET}\nkubeadm-upgraded\nkube-proxy-applied\ndrained\n`;
  const r = run('cp2', joined('cp2', TARGET, { files: { ...joined('cp2', TARGET).files, '/var/lib/kubeha/upgrade': record } }));
  assert.is(r.code, 0, r.out + r.err);
  assert.match(r.out, `Kubernetes on this node: ${TARGET}; bundle: ${TARGET}; action: upgrade`);
  const c = changes(r.calls);
  inOrder(c, ['kubectl --kubeconfig /etc/kubernetes/admin.conf uncordon cp2']);
  assert.match(r.out, '+ rm -f /var/lib/kubeha/upgrade');
  assert.not.ok(
    c.some((x) => /^kubeadm upgrade|drain|restart kubelet|install .*kubelet=/.test(x)),
    c.join('\n'),
  );
  // Killed in the middle of kubeadm upgrade apply: it runs again; the node was not drained yet, so it is now.
  const mid = run('cp1', joined('cp1', TARGET, { kubelet: '1.33.5', files: { ...joined('cp1', TARGET).files, '/var/lib/kubeha/upgrade': `${TARGET}\n` } }));
  assert.is(mid.code, 0, mid.out + mid.err);
  inOrder(changes(mid.calls), [
    `kubeadm upgrade apply v${TARGET}`,
    'kubectl --kubeconfig /etc/kubernetes/admin.conf drain cp1',
    'systemctl restart kubelet',
    'kubectl --kubeconfig /etc/kubernetes/admin.conf uncordon cp1',
  ]);
  // A record of another version: that upgrade is finished first.
  const other = run('cp1', joined('cp1', TARGET, { files: { ...joined('cp1', TARGET).files, '/var/lib/kubeha/upgrade': '1.34.1\n' } }));
  assert.is(other.code, 1);
  assert.match(other.err, 'an upgrade of this node to 1.34.1 did not finish (/var/lib/kubeha/upgrade): run the bundle made for that version again');
});

testNeeding([NAMESPACES], 'an old containerd is upgraded on the drained node, keeping kubeha config.toml, not in the packages phase', () => {
  if (!gen) throw new Error('the bundles were not generated (see test.before)');
  const r = run('cp2', joined('cp2', '1.33.5', { containerd: '1.7.1' }), 120, 'packages,kubeadm');
  assert.is(r.code, 0, r.out + r.err);
  assert.match(r.out, 'containerd 1.7.1 is older than 1.7.20 (Kubernetes 1.34.2): it is upgraded on the drained node, in the kubeadm phase');
  inOrder(changes(r.calls), [
    'kubectl --kubeconfig /etc/kubernetes/admin.conf drain cp2',
    'apt-get -o DPkg::Lock::Timeout=300 install -y -o Dpkg::Options::=--force-confold containerd.io',
    'systemctl restart containerd',
    'systemctl restart kubelet',
    'kubectl --kubeconfig /etc/kubernetes/admin.conf uncordon cp2',
  ]);
  assert.is(changes(r.calls).filter((x) => x.includes('containerd.io')).length, 1, 'installed once, after the drain');
});

test.run();
