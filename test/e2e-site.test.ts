/**
 * The e2e site's pure parts (e2e/cluster): the allow list every mirror request is checked against, the packages'
 * control files, the Release file and the build recipe. The heavy checks (builds, apt against the served
 * repositories, images through the mirror) are the site's self-check: node dist/e2e/cluster/selfcheck.js.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { MirrorList } from '../src/render/mirror-list.js';
import { allowListOf, classify } from '../e2e/cluster/allowlist.js';
import { COMPONENTS, component, goBuildArgs, goOutputName, KUBERNETES_RELEASES, kubernetesRelease } from '../e2e/cluster/components.js';
import { controlText, debFileName, installedSize, kubernetesDebs, streamOf } from '../e2e/cluster/debs.js';
import { imagePlan } from '../e2e/cluster/registry.js';
import { mergeArtifactLists, SITE_VERSIONS } from '../e2e/cluster/site.js';
import { kubeadmImageTags } from '../src/model/images.js';
import { REPO } from './helpers.js';
import { releaseText } from '../e2e/cluster/repos.js';

const SITE = 'https://198.51.100.200';

/** An artifact list as `gen artifacts --json` prints it for an inventory whose mirrors point at the site. */
const LIST: MirrorList = {
  downloads: [
    {
      what: 'etcd v3.6.8 amd64',
      url: `${SITE}/files/github.com/etcd-io/etcd/releases/download/v3.6.8/etcd-v3.6.8-linux-amd64.tar.gz`,
      sha256: '0'.repeat(64),
      hosts: 'etcd members',
    },
  ],
  repositories: [
    {
      what: 'Kubernetes v1.36',
      format: 'deb',
      url: `${SITE}/kubernetes/core/stable/v1.36/deb/`,
      key: `${SITE}/kubernetes/core/stable/v1.36/deb/Release.key`,
      hosts: 'Kubernetes nodes',
    },
    {
      what: 'Kubernetes v1.36',
      format: 'rpm',
      url: `${SITE}/kubernetes/core/stable/v1.36/rpm/`,
      key: `${SITE}/kubernetes/core/stable/v1.36/rpm/repodata/repomd.xml.key`,
      hosts: 'Kubernetes nodes',
    },
    {
      what: 'containerd.io',
      format: 'rpm',
      url: `${SITE}/docker/linux/centos/$releasever/$basearch/stable`,
      key: `${SITE}/docker/linux/centos/gpg`,
      hosts: 'RHEL',
    },
  ],
  images: [
    {
      name: 'kube-apiserver',
      image: '198.51.100.200/registry.k8s.io/kube-apiserver:v1.36.3',
      upstream: 'registry.k8s.io/kube-apiserver:v1.36.3',
      pulledBy: 'control planes',
    },
    { name: 'pause', image: '198.51.100.200/registry.k8s.io/pause:3.10.1', upstream: 'registry.k8s.io/pause:3.10.1', pulledBy: 'every node' },
  ],
};
const DIGEST = `sha256:${'a'.repeat(64)}`;
const ALLOW = allowListOf(
  LIST,
  SITE,
  [{ what: 'containerd.io for debian', url: `${SITE}/docker/linux/debian`, key: `${SITE}/docker/linux/debian/gpg`, why: 'issue 24' }],
  {
    '198.51.100.200/registry.k8s.io/kube-apiserver:v1.36.3': [DIGEST],
  },
);

test('the allow list: listed downloads, repository paths and keys, image tags, digests and blobs are listed', () => {
  const listed = (target: string, method = 'GET') => {
    const v = classify(ALLOW, method, target);
    assert.ok(v.listed, `${method} ${target}: ${JSON.stringify(v)}`);
    return v.listed ? v.what : '';
  };
  assert.is(listed('/files/github.com/etcd-io/etcd/releases/download/v3.6.8/etcd-v3.6.8-linux-amd64.tar.gz'), 'etcd v3.6.8 amd64');
  assert.is(listed('/kubernetes/core/stable/v1.36/deb/InRelease'), 'Kubernetes v1.36');
  assert.is(listed('/kubernetes/core/stable/v1.36/deb/amd64/kubelet_1.36.3-1.1_amd64.deb', 'HEAD'), 'Kubernetes v1.36');
  assert.is(listed('/v2/registry.k8s.io/kube-apiserver/manifests/v1.36.3'), 'image 198.51.100.200/registry.k8s.io/kube-apiserver:v1.36.3');
  assert.is(listed(`/v2/registry.k8s.io/kube-apiserver/manifests/${DIGEST}`), 'image 198.51.100.200/registry.k8s.io/kube-apiserver:v1.36.3');
  assert.is(listed(`/v2/registry.k8s.io/kube-apiserver/blobs/${DIGEST}`), 'image 198.51.100.200/registry.k8s.io/kube-apiserver:v1.36.3');
  assert.is(listed('/v2/'), 'registry API version check');
});

test('the allow list: anything else is unlisted, with the reason', () => {
  const why = (target: string, method = 'GET') => {
    const v = classify(ALLOW, method, target);
    assert.not.ok(v.listed, `${method} ${target} is listed`);
    return v.listed ? '' : v.why;
  };
  assert.is(why('/files/github.com/etcd-io/etcd/releases/download/v3.6.9/etcd-v3.6.9-linux-amd64.tar.gz'), 'not a listed download, repository or image');
  assert.is(why('/kubernetes/core/stable/v1.35/deb/InRelease'), 'not a listed download, repository or image');
  assert.is(why('/v2/registry.k8s.io/pause/manifests/3.10.2'), 'registry.k8s.io/pause tag or digest 3.10.2 is not part of a listed image');
  assert.is(why('/v2/registry.k8s.io/etcd/manifests/3.6.8-0'), 'image repository registry.k8s.io/etcd is not listed');
  assert.is(why(`/v2/registry.k8s.io/pause/blobs/${DIGEST}`), `registry.k8s.io/pause blob ${DIGEST} is not part of a listed image`);
  assert.is(why('/v2/registry.k8s.io/kube-apiserver/blobs/uploads/', 'POST'), 'method POST: the site is read-only');
  assert.is(why('/kubernetes/core/stable/v1.36/deb/..%2f..%2fv1.35/deb/Release'), 'a path with ..');
});

test('the allow list: a repository served beyond the list is reported apart, percent-encoded paths decode', () => {
  const v = classify(ALLOW, 'GET', '/docker/linux/debian/dists/bookworm/pool/stable/amd64/containerd.io_2.2.9-1%7edebian.12%7ebookworm_amd64.deb');
  assert.equal(v, { listed: false, why: 'a repository gen artifacts does not list', beyondList: 'issue 24', what: 'containerd.io for debian' });
  assert.equal(classify(ALLOW, 'GET', '/docker/linux/debian/gpg'), {
    listed: false,
    why: 'a repository gen artifacts does not list',
    beyondList: 'issue 24',
    what: 'containerd.io for debian (signing key)',
  });
});

test('the allow list refuses a list whose mirrors do not point at the site', () => {
  const elsewhere = { ...LIST, images: [{ ...LIST.images[0]!, image: 'registry.k8s.io/kube-apiserver:v1.36.3' }] };
  assert.throws(() => allowListOf(elsewhere, SITE, [], {}), /is not on the site/);
});

test("kubelet's control file carries pkgs.k8s.io's fields (kubernetes/release kubelet.spec and metadata.yaml)", () => {
  const kubelet = kubernetesDebs(kubernetesRelease('1.36.3')).find((d) => d.package === 'kubelet')!;
  assert.is(
    controlText(kubelet, 82400),
    [
      'Package: kubelet',
      'Version: 1.36.3-1.1',
      'Architecture: amd64',
      'Maintainer: Kubernetes Authors <dev@kubernetes.io>',
      'Installed-Size: 82400',
      'Depends: iptables (>= 1.4.21), kubernetes-cni (>= 1.2.0), mount, util-linux',
      'Section: net',
      'Priority: optional',
      'Homepage: https://kubernetes.io',
      'Description: Node agent for Kubernetes clusters',
      ' Node agent for Kubernetes clusters.',
      '',
    ].join('\n'),
  );
  assert.is(debFileName(kubelet), 'kubelet_1.36.3-1.1_amd64.deb');
  assert.equal(kubelet.conffiles, ['/etc/default/kubelet']);
  const paths = (name: string) =>
    kubernetesDebs(kubernetesRelease('1.36.3'))
      .find((d) => d.package === name)!
      .files.map((f) => f.path);
  assert.ok(paths('kubeadm').includes('/lib/systemd/system/kubelet.service.d/10-kubeadm.conf'));
  assert.ok(paths('kubelet').includes('/lib/systemd/system/kubelet.service'));
  assert.equal(paths('cri-tools'), ['/usr/bin/crictl']);
  assert.ok(paths('kubernetes-cni').includes('/opt/cni/bin/portmap'));
  assert.is(installedSize([1, 1024, 1025, 0]), 1 + 1 + 2 + 1);
});

test('a Release file lists each index with its SHA-256, size and SHA-512', () => {
  const text = releaseText({ origin: 'o', label: 'l', description: 'd' }, new Date(Date.UTC(2026, 11, 4, 15, 0, 0)), [
    { path: 'Packages', content: Buffer.from('hello\n') },
  ]);
  assert.is(
    text,
    [
      'Origin: o',
      'Label: l',
      'Architectures: amd64',
      'Date: Fri, 04 Dec 2026 15:00:00 UTC',
      'Description: d',
      'SHA256:',
      ' 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03        6 Packages',
      'SHA512:',
      ' e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931f94aae41edda2c2b207a36e10f8bcb8d45223e54878f5b316e7ce3b6bc019629        6 Packages',
      '',
    ].join('\n'),
  );
});

test('the build recipe: Kubernetes stamped on both version packages, binaries named as go build names them', () => {
  const args = goBuildArgs(component('kubernetes'), '/out').join(' ');
  for (const p of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) assert.ok(args.includes(`-X ${p}.gitVersion=v1.36.3`), p);
  assert.ok(args.includes('-tags selinux,notest'));
  assert.is(goOutputName('go.etcd.io/etcd/server/v3'), 'server');
  assert.is(goOutputName('github.com/opencontainers/runc'), 'runc');
  assert.ok(component('runc').cgo, 'runc needs cgo (nsenter, seccomp)');
  assert.equal(
    COMPONENTS.filter((c) => c.standIn).map((c) => c.id),
    ['flannel-cni-plugin'],
  );
});

test('two Kubernetes releases side by side: each its own component, stamps, packages stream, CoreDNS and images', () => {
  assert.equal(SITE_VERSIONS.kubernetes, ['1.36.3', '1.37.2']);
  const args = goBuildArgs(component('kubernetes-1.37'), '/out').join(' ');
  assert.ok(args.includes('-X k8s.io/component-base/version.gitVersion=v1.37.2'));
  // k8s.io/kubernetes v1.37.2's .info on the Go proxy: {"Version":"v1.37.2","Time":"2026-10-27T12:01:04Z"}.
  assert.ok(args.includes('-X k8s.io/client-go/pkg/version.buildDate=2026-10-27T12:01:04Z'));
  assert.is(component('kubernetes-1.37').module, 'kubernetes-1.37');
  const r137 = kubernetesRelease('1.37.2');
  assert.is(streamOf(r137), 'v1.37');
  const versions = Object.fromEntries(kubernetesDebs(r137).map((d) => [d.package, d.version]));
  assert.equal(versions, { kubelet: '1.37.2-1.1', kubeadm: '1.37.2-1.1', kubectl: '1.37.2-1.1', 'cri-tools': '1.37.0-1.1', 'kubernetes-cni': '1.10.0-1.1' });
  // The CoreDNS each release's kubeadm deploys (kubeha's table) is the one the site builds for it.
  for (const r of KUBERNETES_RELEASES) assert.is(component(r.coredns).version, kubeadmImageTags(r.version).coredns, r.version);
  // .ci/run builds every release's kubeadm before npm test (test/kubeadm-validate.test.ts runs them).
  const ci = readFileSync(join(REPO, '.ci', 'run'), 'utf8');
  const warmed = /node dist\/e2e\/cluster\/warm\.js ([^\n]+)\n/.exec(ci)?.[1]?.split(' ') ?? [];
  for (const r of KUBERNETES_RELEASES) assert.ok(warmed.includes(r.id), `.ci/run warms ${r.id}: ${warmed.join(' ')}`);
  assert.throws(() => kubernetesRelease('1.35.4'), /the e2e site serves Kubernetes 1\.36\.3 and 1\.37\.2, not 1\.35\.4/);
});

test("an upgrade's site: two lists merged, each entry once; each image tag from its release; an unbuilt tag refused", () => {
  const image = (name: string, tag: string) => ({ name, image: `198.51.100.200/registry.k8s.io/${name}:${tag}`, upstream: '', pulledBy: '' }) as any;
  const before = { ...LIST, images: [image('kube-apiserver', 'v1.36.3'), image('coredns/coredns', 'v1.14.2')] };
  const after = { ...LIST, images: [image('kube-apiserver', 'v1.37.2')] };
  const merged = mergeArtifactLists(before, after);
  assert.is(merged.repositories.length, LIST.repositories.length);
  assert.is(merged.downloads.length, LIST.downloads.length);
  assert.equal(
    merged.images.map((i) => i.image.split('/').pop()),
    ['kube-apiserver:v1.36.3', 'coredns:v1.14.2', 'kube-apiserver:v1.37.2'],
  );
  const plan = imagePlan({ ...merged, images: [image('kube-apiserver', 'v1.36.3'), image('kube-apiserver', 'v1.37.2')] });
  assert.equal(
    plan.map((p) => p.spec.from),
    ['kubernetes', 'kubernetes-1.37'],
  );
  assert.equal(
    imagePlan({ ...LIST, images: [{ ...image('coredns', 'v1.14.6') }] }).map((p) => p.spec.from),
    ['coredns-1.14.6'],
  );
  assert.throws(
    () => imagePlan({ ...LIST, images: [image('kube-apiserver', 'v1.35.4')] }),
    /lists 198\.51\.100\.200\/registry\.k8s\.io\/kube-apiserver:v1\.35\.4 but the site builds kube-apiserver v1\.36\.3 and v1\.37\.2/,
  );
});

test.run();
