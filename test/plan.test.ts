/** gen plan's text and JSON and the upgrade decisions (src/model/plan.ts, upgrade.ts), pure and fast; literal expectations. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describePlan, planJson } from '../src/model/plan.js';
import {
  describeUpgrade,
  recordedKubernetesVersion,
  recordedTargetVersion,
  unknownVersionProblems,
  versionChange,
  versionChangeProblems,
} from '../src/model/upgrade.js';
import { modelOf, REPO } from './helpers.js';

const runbook = () => JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));

/** A docker cluster with a lone control plane, a worker and an etcd member that is also a worker. */
const small = () =>
  modelOf({
    cluster: { name: 'small', kubernetesVersion: '1.33.5', podSubnet: '10.244.0.0/16', containerRuntime: 'docker', kubeProxyMode: 'iptables' },
    etcd: { version: '3.5.24' },
    hosts: [
      { name: 'cp1', address: '10.1.0.1', roles: ['control-plane'] },
      { name: 'w1', address: '10.1.0.2', roles: ['worker'] },
      { name: 'e1', address: '10.1.0.3', roles: ['etcd', 'worker'] },
    ],
  });

test("the runbook's plan: the cluster, the endpoint, each host's roles, kubeadm action and services, the order", () => {
  assert.is(
    describePlan(modelOf(runbook())),
    [
      'cluster kubernetes: Kubernetes 1.34.2 (kubeadm.k8s.io/v1beta4), containerd, kube-proxy nftables, flannel vxlan',
      'control-plane endpoint 10.0.8.100:16443 (VIP 10.0.8.100, unicast VRRP, router id 65)',
      'etcd 3.5.27: ceph1, ceph2, ceph3',
      '',
      'HOST     ADDRESS       ROLES                       KUBEADM                       SERVICES',
      'worker1  10.0.8.6      control-plane,loadbalancer  kubeadm init                  haproxy,keepalived,containerd,kubelet,kube-apiserver,kube-controller-manager,kube-scheduler,kube-proxy,kube-flannel',
      'worker2  10.0.8.12     control-plane,loadbalancer  kubeadm join --control-plane  haproxy,keepalived,containerd,kubelet,kube-apiserver,kube-controller-manager,kube-scheduler,kube-proxy,kube-flannel',
      'ceph1    172.21.16.14  etcd                        -                             etcd',
      'ceph2    172.21.16.6   etcd                        -                             etcd',
      'ceph3    172.21.16.13  etcd                        -                             etcd',
      '',
      'Run the bundles in this order (hosts of one step may run at the same time; a host waits, bounded, for what it needs from earlier steps):',
      '  1. etcd members: ceph1, ceph2, ceph3',
      '  2. first control plane (kubeadm init): worker1',
      '  3. other control planes (kubeadm join --control-plane): worker2',
      '',
    ].join('\n'),
  );
});

test('a docker cluster without a VIP: cri-docker beside docker, workers join, an etcd member that is a worker runs both', () => {
  const model = small();
  const text = describePlan(model, ['', 'UPGRADE LINE']);
  assert.match(text, 'cluster small: Kubernetes 1.33.5 (kubeadm.k8s.io/v1beta4), docker, kube-proxy iptables, flannel vxlan\n');
  assert.match(text, 'control-plane endpoint 10.1.0.1:6443 (single control plane, no VIP)\n');
  assert.ok(text.endsWith('\n\nUPGRADE LINE\n'), text);
  assert.equal(planJson(model), {
    cluster: { name: 'small', kubernetesVersion: '1.33.5', kubeadmApiVersion: 'kubeadm.k8s.io/v1beta4' },
    controlPlaneEndpoint: '10.1.0.1:6443',
    hosts: [
      {
        name: 'cp1',
        address: '10.1.0.1',
        roles: ['control-plane'],
        kubeadm: 'kubeadm init',
        services: ['docker', 'cri-docker', 'kubelet', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy', 'kube-flannel'],
        step: 2,
      },
      {
        name: 'w1',
        address: '10.1.0.2',
        roles: ['worker'],
        kubeadm: 'kubeadm join',
        services: ['docker', 'cri-docker', 'kubelet', 'kube-proxy', 'kube-flannel'],
        step: 3,
      },
      {
        name: 'e1',
        address: '10.1.0.3',
        roles: ['etcd', 'worker'],
        kubeadm: 'kubeadm join',
        services: ['etcd', 'docker', 'cri-docker', 'kubelet', 'kube-proxy', 'kube-flannel'],
        step: 1,
      },
    ],
    // e1 runs in the first step: its etcd member is needed first, and its worker joins in the same run.
    order: [
      { title: 'etcd members', hosts: ['e1'] },
      { title: 'first control plane (kubeadm init)', hosts: ['cp1'] },
      { title: 'workers (kubeadm join)', hosts: ['w1'] },
    ],
  });
});

test('version changes: install, none, patch, minor, skip and downgrade (a patch downgrade too), and the problems of the last two', () => {
  const kind = (from: string | null, to: string) => versionChange(from, to).kind;
  assert.equal(
    [
      kind(null, '1.34.2'),
      kind('1.34.2', '1.34.2'),
      kind('1.34.1', '1.34.2'),
      kind('1.33.9', '1.34.0'),
      kind('1.32.0', '1.34.0'),
      kind('1.34.2', '1.34.1'),
      kind('1.35.0', '1.34.9'),
    ],
    ['install', 'none', 'patch', 'minor', 'skip', 'downgrade', 'downgrade'],
  );
  assert.equal(versionChange('1.33.9', '1.34.0'), { kind: 'minor', from: '1.33.9', to: '1.34.0' });
  assert.equal(versionChangeProblems(versionChange('1.34.2', '1.34.1'), 'out/cp1.tar.gz'), [
    {
      pointer: '/cluster/kubernetesVersion',
      severity: 'error',
      message: 'the previous output (out/cp1.tar.gz) was made for Kubernetes 1.34.2: kubeadm cannot downgrade a cluster to 1.34.1; keep 1.34.2 or move up',
    },
  ]);
  assert.equal(versionChangeProblems(versionChange('1.32.0', '1.34.0'), 'out/cp1.tar.gz'), [
    {
      pointer: '/cluster/kubernetesVersion',
      severity: 'error',
      message:
        'the previous output (out/cp1.tar.gz) was made for Kubernetes 1.32.0: 1.34.0 skips 1.33; kubeadm upgrades one minor version at a time: set 1.33.x, generate and run every bundle, then go on',
    },
  ]);
  for (const ok of [versionChange(null, '1.34.2'), versionChange('1.34.1', '1.34.2'), versionChange('1.33.1', '1.34.2')])
    assert.equal(versionChangeProblems(ok, 'out'), [], ok.kind);
  assert.equal(unknownVersionProblems('out', ['out/a.tar.gz: no run.sh', 'out/b.tar.gz: damaged']), [
    {
      pointer: '/cluster/kubernetesVersion',
      severity: 'error',
      message:
        "the previous output (out) holds bundles of this inventory's hosts, but none tells the Kubernetes version they were made for (out/a.tar.gz: no run.sh; out/b.tar.gz: damaged), so kubeha cannot refuse a skipped minor or a downgrade: restore them from a backup, or, if you know the cluster runs at most one minor below this version (or is new), generate with --force-version-change",
    },
  ]);
});

test("the version a previous bundle records: run.sh's KUBE_TARGET line and kubeadm-config.yaml's kubernetesVersion, whole lines only", () => {
  assert.is(recordedTargetVersion('set -e\nKUBE_TARGET=1.34.2\n'), '1.34.2');
  assert.is(recordedTargetVersion('x\n  KUBE_TARGET=v1.33.10\ny'), '1.33.10');
  for (const no of ['KUBE_TARGET=1.34', 'KUBE_TARGET=1.34.2-rc.0', 'MY_KUBE_TARGET=1.34.2', '# KUBE_TARGET=1.34.2 ', 'KUBE_TARGET=a.b.c', ''])
    assert.is(recordedTargetVersion(no), null, JSON.stringify(no));
  assert.is(recordedKubernetesVersion('kind: ClusterConfiguration\nkubernetesVersion: v1.34.2\n'), '1.34.2');
  assert.is(recordedKubernetesVersion('kubernetesVersion: 1.30.14'), '1.30.14');
  for (const no of [
    '  kubernetesVersion: v1.34.2',
    'kubernetesVersion: v1.34',
    'kubernetesVersion: v1.34.2 # x',
    'xkubernetesVersion: v1.34.2',
    'kubernetesVersion: vX.1.2',
  ])
    assert.is(recordedKubernetesVersion(no), null, JSON.stringify(no));
});

test('the upgrade order: the init control plane applies, the others upgrade node, the last one kube-proxy and CoreDNS, then workers', () => {
  const model = modelOf(runbook());
  assert.equal(describeUpgrade(model, versionChange('1.33.5', '1.34.2')), [
    '',
    'Upgrade pending: Kubernetes 1.33.5 -> 1.34.2 (minor); every etcd member must run 3.5.24 or later (kubeadm leaves an external etcd alone).',
    "Run the Kubernetes nodes' bundles in this order, one control plane at a time (each waits, bounded, for the API servers before it):",
    '  1. worker1: kubeadm upgrade plan, kubeadm upgrade apply v1.34.2; drain, kubelet and kubectl 1.34.2, Ready at v1.34.2, uncordon',
    '  2. worker2: kubeadm upgrade node; kube-proxy and CoreDNS (every API server is new now); drain, kubelet and kubectl 1.34.2, Ready at v1.34.2, uncordon',
  ]);
  const lone = small();
  assert.equal(describeUpgrade(lone, versionChange('1.33.4', '1.33.5')).slice(3), [
    '  1. cp1: kubeadm upgrade plan, kubeadm upgrade apply v1.33.5; kube-proxy and CoreDNS (every API server is new now); drain, kubelet and kubectl 1.33.5, Ready at v1.33.5, uncordon',
    "  2. workers, a few at a time (each drains itself with its kubelet's credentials): w1, e1",
  ]);
  for (const from of [null, '1.34.2', '1.32.0', '1.35.0']) assert.equal(describeUpgrade(model, versionChange(from, '1.34.2')), [], String(from));
});

test.run();
