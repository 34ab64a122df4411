/**
 * The images a cluster pulls (src/model/images.ts), pure and fast. Literals from upstream: kubeadm 1.34 pins CoreDNS
 * v1.12.1 and pause 3.10.1 (its constants.go); kubeadm pulls CoreDNS from <repo>/coredns/coredns for registry.k8s.io
 * and from <repo>/coredns for any other imageRepository (kubeadm's docs, "Custom images").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clusterImages, kubeadmRepositories } from '../src/model/images.js';
import { modelOf, REPO, type InventoryDoc } from './helpers.js';

const runbook = (): InventoryDoc => JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));
const images = (doc: InventoryDoc) => clusterImages(modelOf(doc)).map((i) => `${i.name} ${i.image} <- ${i.upstream} (${i.pulledBy})`);

const FLANNEL = [
  'flannel ghcr.io/flannel-io/flannel:v0.27.4 <- ghcr.io/flannel-io/flannel:v0.27.4 (every node)',
  'flannel-cni-plugin ghcr.io/flannel-io/flannel-cni-plugin:v1.8.0-flannel1 <- ghcr.io/flannel-io/flannel-cni-plugin:v1.8.0-flannel1 (every node)',
];

test('from registry.k8s.io: the control plane at the cluster version, CoreDNS and pause of its minor, flannel', () => {
  assert.equal(images(runbook()), [
    'kube-apiserver registry.k8s.io/kube-apiserver:v1.34.2 <- registry.k8s.io/kube-apiserver:v1.34.2 (control planes)',
    'kube-controller-manager registry.k8s.io/kube-controller-manager:v1.34.2 <- registry.k8s.io/kube-controller-manager:v1.34.2 (control planes)',
    'kube-scheduler registry.k8s.io/kube-scheduler:v1.34.2 <- registry.k8s.io/kube-scheduler:v1.34.2 (control planes)',
    'kube-proxy registry.k8s.io/kube-proxy:v1.34.2 <- registry.k8s.io/kube-proxy:v1.34.2 (every node)',
    'coredns registry.k8s.io/coredns/coredns:v1.12.1 <- registry.k8s.io/coredns/coredns:v1.12.1 (nodes running coredns)',
    'pause registry.k8s.io/pause:3.10.1 <- registry.k8s.io/pause:3.10.1 (every node)',
    ...FLANNEL,
  ]);
  assert.equal(kubeadmRepositories(modelOf(runbook())), { imageRepository: 'registry.k8s.io' });
});

test('another imageRepository: kubeadm pulls CoreDNS from <repo>/coredns there, and needs no dns.imageRepository', () => {
  const doc = runbook();
  doc.cluster.imageRepository = 'harbor.example.cn/k8s';
  const list = images(doc);
  assert.is(list[0], 'kube-apiserver harbor.example.cn/k8s/kube-apiserver:v1.34.2 <- registry.k8s.io/kube-apiserver:v1.34.2 (control planes)');
  assert.is(list[4], 'coredns harbor.example.cn/k8s/coredns:v1.12.1 <- registry.k8s.io/coredns/coredns:v1.12.1 (nodes running coredns)');
  assert.is(list[5], 'pause harbor.example.cn/k8s/pause:3.10.1 <- registry.k8s.io/pause:3.10.1 (every node)');
  assert.equal(kubeadmRepositories(modelOf(doc)), { imageRepository: 'harbor.example.cn/k8s' });
});

test("a mirror of registry.k8s.io keeps upstream's paths: kubeadm is told where CoreDNS is; a ghcr.io mirror serves flannel", () => {
  const doc = runbook();
  doc.mirrors = { registries: { 'registry.k8s.io': 'https://harbor.example.cn/k8s', 'ghcr.io': 'https://harbor.example.cn/ghcr' } };
  const list = images(doc);
  assert.is(list[3], 'kube-proxy harbor.example.cn/k8s/kube-proxy:v1.34.2 <- registry.k8s.io/kube-proxy:v1.34.2 (every node)');
  assert.is(list[4], 'coredns harbor.example.cn/k8s/coredns/coredns:v1.12.1 <- registry.k8s.io/coredns/coredns:v1.12.1 (nodes running coredns)');
  assert.is(list[6], 'flannel harbor.example.cn/ghcr/flannel-io/flannel:v0.27.4 <- ghcr.io/flannel-io/flannel:v0.27.4 (every node)');
  assert.equal(kubeadmRepositories(modelOf(doc)), { imageRepository: 'harbor.example.cn/k8s', dnsImageRepository: 'harbor.example.cn/k8s/coredns' });
});

test.run();
