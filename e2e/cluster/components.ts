/**
 * What the e2e site builds, as data: one entry per upstream project, each built by `go build` from a Go module of
 * ours under e2e/go/<module>/ (go.mod + go.sum + tools.go naming the programs; no upstream code in the tree). The
 * flags follow each project's own build (its Makefile or build script, read in the module cache) where it matters:
 * cgo, build tags and the version variables its `--version` prints.
 */

/** One program of a component: the file name it gets and the Go package (a main package) it is built from. */
export interface Program {
  name: string;
  pkg: string;
}

/** One upstream project at one version, built in one `go build` (its programs share the build cache). */
export interface Component {
  id: string;
  /** The folder under e2e/go holding our go.mod. */
  module: string;
  /** The upstream module and the version our go.mod requires. */
  upstream: string;
  version: string;
  programs: Program[];
  cgo: boolean;
  tags: string[];
  buildmode?: 'pie';
  /** Flags for the external linker (cgo builds), e.g. -static. */
  extldflags?: string;
  /** `-X` stamps beyond `-s -w -buildid=`. */
  stamps: string[];
  /** Why this is not the upstream project the product names, when it is a stand-in. */
  standIn?: string;
}

/**
 * One Kubernetes release the site serves: its version, the component building its seven programs (our module under
 * e2e/go), the buildDate stamped (the module version's Time on the Go proxy, its .info: a rebuild is byte-identical),
 * and the components of the CoreDNS its kubeadm deploys and of the cri-tools its pkgs.k8s.io stream carries.
 */
export interface KubernetesRelease {
  version: string;
  id: string;
  module: string;
  buildDate: string;
  coredns: string;
  criTools: string;
}

/**
 * The Kubernetes releases the site serves, oldest first (the oldest keeps the component id `kubernetes`, so its cache
 * folder stays). CoreDNS: kubeadm's constants.CoreDNSVersion of each (v1.14.2 in v1.36.3, v1.14.6 in v1.37.2).
 */
export const KUBERNETES_RELEASES: readonly KubernetesRelease[] = [
  { version: '1.36.3', id: 'kubernetes', module: 'kubernetes-1.36', buildDate: '2026-07-22T18:07:38Z', coredns: 'coredns', criTools: 'cri-tools' },
  {
    version: '1.37.2',
    id: 'kubernetes-1.37',
    module: 'kubernetes-1.37',
    buildDate: '2026-10-27T12:01:04Z',
    coredns: 'coredns-1.14.6',
    criTools: 'cri-tools-1.37',
  },
];

/** The Kubernetes versions the site serves, oldest first. */
export const KUBERNETES_VERSIONS: readonly string[] = KUBERNETES_RELEASES.map((r) => r.version);

/** The release the site builds for a Kubernetes version; an error names the versions it serves. */
export function kubernetesRelease(version: string): KubernetesRelease {
  const found = KUBERNETES_RELEASES.find((r) => r.version === version);
  if (!found) throw new Error(`the e2e site serves Kubernetes ${KUBERNETES_VERSIONS.join(' and ')}, not ${version}`);
  return found;
}

/** The Go proxy has no commit for a module version: commits are stamped as zeros, never a made-up hash. */
const NO_COMMIT = '0000000000000000000000000000000000000000';

/** hack/lib/version.sh's stamps, on both packages that carry them (kubeadm refuses an unstamped v0.0.0-master). */
function kubernetesStamps(release: KubernetesRelease): string[] {
  const [major, minor] = release.version.split('.');
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((p) => [
    `${p}.gitVersion=v${release.version}`,
    `${p}.gitMajor=${major}`,
    `${p}.gitMinor=${minor}`,
    `${p}.gitTreeState=clean`,
    `${p}.gitCommit=${NO_COMMIT}`,
    `${p}.buildDate=${release.buildDate}`,
  ]);
}

const K8S = 'k8s.io/kubernetes/cmd';
const CNI = 'github.com/containernetworking/plugins';

/** The seven Kubernetes programs of a release (hack/lib/golang.sh: CGO_ENABLED=0, tags selinux,notest; kubelet static since 1.36). */
function kubernetesComponent(release: KubernetesRelease): Component {
  return {
    id: release.id,
    module: release.module,
    upstream: 'k8s.io/kubernetes',
    version: `v${release.version}`,
    programs: ['kubeadm', 'kubelet', 'kubectl', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'].map((name) => ({
      name,
      pkg: `${K8S}/${name}`,
    })),
    cgo: false,
    tags: ['selinux', 'notest'],
    stamps: kubernetesStamps(release),
  };
}

/** etcd 3.6.8: kubeadm 1.36's DefaultEtcdVersion, and a version kubeha pins no checksum for (src/common/etcd-releases.ts). */
const etcd: Component = {
  id: 'etcd',
  module: 'etcd-3.6',
  upstream: 'go.etcd.io/etcd/server/v3',
  version: 'v3.6.8',
  programs: [
    { name: 'etcd', pkg: 'go.etcd.io/etcd/server/v3' },
    { name: 'etcdctl', pkg: 'go.etcd.io/etcd/etcdctl/v3' },
    { name: 'etcdutl', pkg: 'go.etcd.io/etcd/etcdutl/v3' },
  ],
  cgo: false,
  tags: [],
  // scripts/build_lib.sh stamps the commit only (the version is a constant of api/v3/version).
  stamps: ['go.etcd.io/etcd/api/v3/version.GitSHA=0000000'],
};

/** containerd's stamps (Makefile GO_LDFLAGS). */
const CONTAINERD_STAMPS = ['version.Version=v2.2.9', `version.Revision=${NO_COMMIT}`, 'version.Package=github.com/containerd/containerd/v2'].map(
  (s) => `github.com/containerd/containerd/v2/${s}`,
);

/** containerd 2.2.9 and ctr (Makefile: tag urfave_cli_no_docs; static here, CGO_ENABLED=0: the btrfs snapshotter needs cgo and drops out). */
const containerd: Component = {
  id: 'containerd',
  module: 'containerd-2.2',
  upstream: 'github.com/containerd/containerd/v2',
  version: 'v2.2.9',
  programs: ['containerd', 'ctr'].map((name) => ({ name, pkg: `github.com/containerd/containerd/v2/cmd/${name}` })),
  cgo: false,
  tags: ['urfave_cli_no_docs'],
  stamps: CONTAINERD_STAMPS,
};

/** Its runc shim, built apart as the Makefile does: SHIM_CGO_ENABLED=0 and the extra tag no_grpc (which the daemon cannot have). */
const containerdShim: Component = {
  ...containerd,
  id: 'containerd-shim',
  programs: [{ name: 'containerd-shim-runc-v2', pkg: 'github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2' }],
  tags: ['urfave_cli_no_docs', 'no_grpc'],
};

/** runc 1.4.4 (Makefile: cgo, tags seccomp urfave_cli_no_docs, PIE; its version comes from the embedded VERSION file). */
const runc: Component = {
  id: 'runc',
  module: 'runc-1.4',
  upstream: 'github.com/opencontainers/runc',
  version: 'v1.4.4',
  programs: [{ name: 'runc', pkg: 'github.com/opencontainers/runc' }],
  cgo: true,
  tags: ['seccomp', 'urfave_cli_no_docs'],
  buildmode: 'pie',
  stamps: [],
};

/** The CNI plugins the kubernetes-cni package carries here (build_linux.sh builds each plugin folder). */
const cniPlugins: Component = {
  id: 'cni-plugins',
  module: 'cni-plugins-1.10',
  upstream: CNI,
  version: 'v1.10.0',
  programs: ['main/bridge', 'ipam/host-local', 'main/loopback', 'meta/portmap'].map((p) => ({ name: p.split('/')[1]!, pkg: `${CNI}/plugins/${p}` })),
  cgo: false,
  tags: [],
  stamps: [`${CNI}/pkg/utils/buildversion.BuildVersion=v1.10.0`],
};

/** flannel's CNI plugin: a stand-in, the same plugin's code before it moved to its own repository. */
const flannelCni: Component = {
  id: 'flannel-cni-plugin',
  module: 'cni-plugins-0.9',
  upstream: CNI,
  version: 'v0.9.1',
  programs: [{ name: 'flannel', pkg: `${CNI}/plugins/meta/flannel` }],
  cgo: false,
  tags: [],
  stamps: [`${CNI}/pkg/utils/buildversion.BuildVersion=v0.9.1`],
  standIn:
    'github.com/flannel-io/cni-plugin (the flannel-cni-plugin image kubeha names, v1.8.0-flannel1) is not served by the Go proxy at any version: ' +
    'containernetworking/plugins v0.9.1 plugins/meta/flannel, the same plugin before it moved there, stands in',
};

/** crictl 1.36.0, in pkgs.k8s.io's v1.36 stream (Makefile: CGO_ENABLED=0, -trimpath, the version without its v). */
const crictl: Component = {
  id: 'cri-tools',
  module: 'cri-tools-1.36',
  upstream: 'sigs.k8s.io/cri-tools',
  version: 'v1.36.0',
  programs: [{ name: 'crictl', pkg: 'sigs.k8s.io/cri-tools/cmd/crictl' }],
  cgo: false,
  tags: [],
  stamps: ['sigs.k8s.io/cri-tools/pkg/version.Version=1.36.0'],
};

/** crictl 1.37.0, in the v1.37 stream (its Makefile builds as 1.36.0's does). */
const crictl137: Component = {
  ...crictl,
  id: 'cri-tools-1.37',
  module: 'cri-tools-1.37',
  version: 'v1.37.0',
  stamps: ['sigs.k8s.io/cri-tools/pkg/version.Version=1.37.0'],
};

/** CoreDNS v1.14.2, kubeadm 1.36's CoreDNSVersion (Makefile: CGO_ENABLED=0; the version is a constant). */
const coredns: Component = {
  id: 'coredns',
  module: 'coredns-1.14',
  upstream: 'github.com/coredns/coredns',
  version: 'v1.14.2',
  programs: [{ name: 'coredns', pkg: 'github.com/coredns/coredns' }],
  cgo: false,
  tags: [],
  stamps: [],
};

/** CoreDNS v1.14.6, kubeadm 1.37's CoreDNSVersion, built as v1.14.2 is. */
const coredns1146: Component = { ...coredns, id: 'coredns-1.14.6', module: 'coredns-1.14.6', version: 'v1.14.6' };

/** flannel v0.27.4, what kubeha's manifest pins (Makefile: cgo on amd64, for the UDP backend's C proxy, linked -static). */
const flannel: Component = {
  id: 'flannel',
  module: 'flannel-0.27',
  upstream: 'github.com/flannel-io/flannel',
  version: 'v0.27.4',
  programs: [{ name: 'flanneld', pkg: 'github.com/flannel-io/flannel' }],
  cgo: true,
  extldflags: '-static',
  tags: [],
  stamps: ['github.com/flannel-io/flannel/pkg/version.Version=v0.27.4'],
};

/** crane, which makes the images (a build tool of the site, not served). */
const crane: Component = {
  id: 'crane',
  module: 'go-containerregistry-0.22',
  upstream: 'github.com/google/go-containerregistry',
  version: 'v0.22.1',
  programs: [{ name: 'crane', pkg: 'github.com/google/go-containerregistry/cmd/crane' }],
  cgo: false,
  tags: [],
  stamps: [],
};

/** The distribution registry that serves the images behind the mirror. */
const registry: Component = {
  id: 'registry',
  module: 'distribution-3.1',
  upstream: 'github.com/distribution/distribution/v3',
  version: 'v3.1.2',
  programs: [{ name: 'registry', pkg: 'github.com/distribution/distribution/v3/cmd/registry' }],
  cgo: false,
  tags: [],
  stamps: ['github.com/distribution/distribution/v3/version.version=v3.1.2'],
};

/** Our own pause (e2e/go/pause, ~30 lines): sleeps until SIGINT/SIGTERM and reaps children. */
const pause: Component = {
  id: 'pause',
  module: 'pause',
  upstream: 'kubeha.test/e2e/pause',
  version: 'v0.0.0',
  programs: [{ name: 'pause', pkg: 'kubeha.test/e2e/pause' }],
  cgo: false,
  tags: [],
  stamps: [],
};

/** The e2e workload, ours (e2e/go/probe): an HTTP server, a client and a name lookup in one static program. */
const probe: Component = {
  id: 'probe',
  module: 'probe',
  upstream: 'kubeha.test/e2e/probe',
  version: 'v0.0.0',
  programs: [{ name: 'probe', pkg: 'kubeha.test/e2e/probe' }],
  cgo: false,
  tags: [],
  stamps: [],
};

/** Every component, in build order (Kubernetes first: the longest, and the one the others wait least on). */
export const COMPONENTS: readonly Component[] = [
  ...KUBERNETES_RELEASES.map(kubernetesComponent),
  etcd,
  containerd,
  containerdShim,
  runc,
  cniPlugins,
  flannelCni,
  crictl,
  crictl137,
  coredns,
  coredns1146,
  flannel,
  crane,
  registry,
  pause,
  probe,
];

/** A component by id (throws on a typo). */
export function component(id: string): Component {
  const found = COMPONENTS.find((c) => c.id === id);
  if (!found) throw new Error(`no component ${id}`);
  return found;
}

/** The ldflags of a component: stripped, no build id, and its stamps. */
export function ldflagsOf(c: Component): string {
  return ['-s', '-w', '-buildid=', ...c.stamps.flatMap((s) => ['-X', s]), ...(c.extldflags ? ['-extldflags', c.extldflags] : [])].join(' ');
}

/** `go build` arguments (after `go build`) for one component, writing into outDir. */
export function goBuildArgs(c: Component, outDir: string): string[] {
  return [
    '-trimpath',
    '-p',
    '2',
    ...(c.buildmode ? [`-buildmode=${c.buildmode}`] : []),
    ...(c.tags.length ? ['-tags', c.tags.join(',')] : []),
    '-ldflags',
    ldflagsOf(c),
    '-o',
    `${outDir}/`,
    ...c.programs.map((p) => p.pkg),
  ];
}

/** The file `go build -o DIR/` writes for a main package: its last path element, or the one before a /vN suffix. */
export function goOutputName(pkg: string): string {
  const parts = pkg.split('/');
  const last = parts[parts.length - 1]!;
  return /^v[0-9]+$/.test(last) && parts.length > 1 ? parts[parts.length - 2]! : last;
}
