/** Kubernetes node artifacts (kubeadm config, container runtime, flannel) and their run.sh steps, declared as data. */
import { dump } from 'js-yaml';
import { firstMinorWhere } from '../common/kubernetes-versions.js';
import { API_SERVER_PORT } from '../common/ports.js';
import type { ClusterModel } from '../model/types.js';
import { TOKEN_PATTERNS } from '../pki/secrets.js';
import type { Artifact, HostFilter, RenderContext, Step } from './context.js';
import { FLANNEL_MANIFEST_PATH, renderFlannel } from './flannel.js';
import {
  acceptsCgroupV1,
  CGROUP_V1_PREFLIGHT_CHECK,
  CGROUP_V1_REFUSED_FROM,
  refusesCgroupV1,
  CONTROL_PLANE_TAINT,
  ETCD_CLIENT_FILES,
  endpointOf,
  KUBEADM_ADDONS_PATH,
  KUBEADM_CONFIG_PATH,
  isLastJoinedControlPlane,
  renderKubeadmAddonsConfig,
  renderKubeadmConfig,
  taintsFor,
} from './kubeadm.js';
import {
  DOCKER_APT_KEYRING,
  DOCKER_APT_LIST,
  DOCKER_YUM_REPO,
  dockerRepositories,
  dockerYumRepo,
  K8S_APT_KEYRING,
  K8S_APT_LIST,
  K8S_YUM_REPO,
  CONTAINERD_IO_CONFLICTS,
  containerdMinimum,
  k8sAptKeyUrl,
  k8sAptList,
  k8sYumKeyUrl,
  k8sYumRepo,
  KUBE_PACKAGES,
  kubePackageSpecs,
  nodeTools,
  runtimePackages,
} from './node-packages.js';
import { keyComment, keyFingerprints, keyIsPinned, keySource, plainHttpWarning, RPM_KEY_PATHS, type PackageRepository } from './package-keys.js';
import { CRI_DOCKERD, containerdConfigVersion, criDockerdArgs, criDockerdTarballs, renderContainerdConfig, renderDockerDaemon, usesDocker } from './runtime.js';
import { fromTemplate, renderTemplate, shellQuote as q } from './templates.js';

const kubernetesNode: HostFilter = (host) => host.isKubernetesNode;
const initNode: HostFilter = (host) => host.isInit;
const joiningNode: HostFilter = (host) => host.isKubernetesNode && !host.isInit;
const containerdNode: HostFilter = (host, model) => host.isKubernetesNode && !usesDocker(model);
const dockerNode: HostFilter = (host, model) => host.isKubernetesNode && usesDocker(model);

/** Target paths of the runtime files. */
export const RUNTIME_PATHS = {
  containerdConfig: '/etc/containerd/config.toml',
  dockerDaemon: '/etc/docker/daemon.json',
  criDockerService: '/etc/systemd/system/cri-docker.service',
  criDockerSocket: '/etc/systemd/system/cri-docker.socket',
  crictl: '/etc/crictl.yaml',
} as const;

/** How long a joining node waits for the API server behind the endpoint (the first control plane may still be starting). */
export const JOIN_WAIT_SECONDS = 900;
/** How long the first control plane waits for each etcd member. */
export const ETCD_WAIT_SECONDS = 300;

/** An ERE that matches active swap lines of /etc/fstab (third field `swap`), and the sed that comments them out. */
export const SWAP_FSTAB_ERE = '^[[:space:]]*[^#[:space:]][^[:space:]]*[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]]';
export const COMMENT_SWAP_SED = `s/^(${SWAP_FSTAB_ERE.slice(1)})/# kubeha swap off: \\1/`;

const template = (name: string, view: (ctx: RenderContext) => object): Step['script'] => fromTemplate(`kubernetes/${name}.sh.ejs`, view);

function renderCrictl(ctx: RenderContext): string {
  const socket = ctx.model.cluster.criSocket;
  return dump({ 'runtime-endpoint': socket, 'image-endpoint': socket, timeout: 10 });
}

/** Files Kubernetes nodes get. */
export const kubernetesArtifacts: readonly Artifact[] = [
  { path: KUBEADM_CONFIG_PATH, mode: 0o600, when: kubernetesNode, render: renderKubeadmConfig },
  { path: KUBEADM_ADDONS_PATH, mode: 0o600, when: isLastJoinedControlPlane, render: renderKubeadmAddonsConfig },
  {
    path: RUNTIME_PATHS.containerdConfig,
    mode: 0o644,
    when: containerdNode,
    render: renderContainerdConfig,
    restarts: ['containerd.service'],
    sameOnEveryHost: true,
  },
  { path: RUNTIME_PATHS.dockerDaemon, mode: 0o644, when: dockerNode, render: renderDockerDaemon, restarts: ['docker.service'], sameOnEveryHost: true },
  {
    path: RUNTIME_PATHS.criDockerService,
    mode: 0o644,
    when: dockerNode,
    restarts: ['cri-docker.service'],
    sameOnEveryHost: true,
    render: (ctx) =>
      renderTemplate(ctx.templates, 'kubernetes/cri-docker.service.ejs', {
        version: CRI_DOCKERD.version,
        socket: CRI_DOCKERD.socket,
        binary: CRI_DOCKERD.binary,
        args: criDockerdArgs(ctx.model),
      }),
  },
  {
    path: RUNTIME_PATHS.criDockerSocket,
    mode: 0o644,
    when: dockerNode,
    restarts: ['cri-docker.socket'],
    sameOnEveryHost: true,
    render: (ctx) => renderTemplate(ctx.templates, 'kubernetes/cri-docker.socket.ejs', { socket: CRI_DOCKERD.socket, criSocket: ctx.model.cluster.criSocket }),
  },
  { path: RUNTIME_PATHS.crictl, mode: 0o644, when: kubernetesNode, render: renderCrictl, sameOnEveryHost: true },
  { path: FLANNEL_MANIFEST_PATH, mode: 0o644, when: initNode, render: renderFlannel },
];

/** The arguments of run.sh's signing_key after DEST: where the key comes from (a bash word), then the fingerprints to check. */
function keyArgs(model: ClusterModel, repository: PackageRepository, upstream: string): string {
  const source = keySource(model, repository);
  return [source === null ? upstream : q(source), ...keyFingerprints(model, repository)].join(' ');
}

/** The plain-HTTP warning as a bash word, or null. */
function httpWarning(model: ClusterModel, repository: PackageRepository): string | null {
  const warning = plainHttpWarning(model, repository);
  return warning === null ? null : q(warning);
}

function packagesView(model: ClusterModel) {
  const specs = kubePackageSpecs(model);
  const tools = nodeTools(model);
  return {
    version: q(model.cluster.kubernetesVersion),
    packages: [...KUBE_PACKAGES],
    httpWarning: httpWarning(model, 'kubernetes'),
    apt: {
      keyring: K8S_APT_KEYRING,
      list: K8S_APT_LIST,
      line: q(k8sAptList(model)),
      keyArgs: keyArgs(model, 'kubernetes', q(k8sAptKeyUrl(model))),
      specs: specs.deb.map(q),
      tools: tools.deb,
    },
    rpm: {
      repoPath: K8S_YUM_REPO,
      repo: q(k8sYumRepo(model)),
      keyPath: keyIsPinned(model, 'kubernetes') ? RPM_KEY_PATHS.kubernetes : null,
      keyArgs: keyArgs(model, 'kubernetes', q(k8sYumKeyUrl(model))),
      specs: specs.rpm.map(q),
      tools: tools.rpm,
    },
  };
}

function runtimePackagesView(model: ClusterModel) {
  const pkgs = runtimePackages(model);
  return {
    deb: pkgs.deb,
    rpm: pkgs.rpm,
    dockerRepoPath: DOCKER_YUM_REPO,
    dockerRepo: q(dockerYumRepo(model)),
    dockerBase: q(dockerRepositories(model).debBase),
    httpWarning: httpWarning(model, 'docker'),
    apt: {
      keyring: DOCKER_APT_KEYRING,
      list: DOCKER_APT_LIST,
      comment: keyComment(model, 'docker') ? q(keyComment(model, 'docker')) : '',
      keyArgs: keyArgs(model, 'docker', '"$docker_base/linux/$docker_id/gpg"'),
    },
    rpmKey: {
      path: keyIsPinned(model, 'docker') ? RPM_KEY_PATHS.docker : null,
      args: keyArgs(model, 'docker', q(dockerRepositories(model).rpm.key)),
    },
    criDockerd: {
      binary: CRI_DOCKERD.binary,
      version: CRI_DOCKERD.version,
      tarballs: criDockerdTarballs(model).map((t) => ({ uname: t.uname, url: q(t.url), sha256: t.sha256 })),
    },
    minimum: containerdMinimum(model),
    kubernetes: model.cluster.kubernetesVersion,
  };
}

/** A runtime packages step: download.docker.com's apt repository first (Debian-like), then the runtime's own script. */
const runtimeScript =
  (name: string): Step['script'] =>
  (ctx) => {
    const view = runtimePackagesView(ctx.model);
    return renderTemplate(ctx.templates, 'kubernetes/docker-apt-repo.sh.ejs', view) + renderTemplate(ctx.templates, `kubernetes/${name}.sh.ejs`, view);
  };

function kubeadmInitView(ctx: RenderContext) {
  return {
    ...stampsView(),
    config: KUBEADM_CONFIG_PATH,
    etcdWaitSeconds: ETCD_WAIT_SECONDS,
    etcdTls: ETCD_CLIENT_FILES,
    etcdHealthUrls: ctx.model.etcd.members.map((m) => q(`${m.clientURL}/health`)),
    etcdWhat: q(
      `the etcd cluster to have quorum (members: ${ctx.model.etcd.members.map((m) => `${m.name} ${m.clientURL}`).join(', ')}; run their bundles first)`,
    ),
    ttl: q(ctx.model.cluster.bootstrapTokenTTL),
    description: q('kubeha: joins the nodes of this inventory'),
    // The pattern the secrets are checked against, as a grep -E expression (the same syntax without its anchors).
    tokenPattern: q(TOKEN_PATTERNS.bootstrapToken.source.replace(/^\^|\$$/g, '')),
  };
}

/** Where run.sh records kubeadm init/join: started just before, done only after it succeeded. */
export const KUBEADM_STAMPS = { dir: '/var/lib/kubeha', started: '/var/lib/kubeha/kubeadm-started', done: '/var/lib/kubeha/kubeadm-done' } as const;
/** What kubeadm init/join write before they can fail: their presence without the done stamp is a partial state. */
export const KUBEADM_LEFTOVERS = [
  '/etc/kubernetes/admin.conf',
  '/etc/kubernetes/super-admin.conf',
  '/etc/kubernetes/kubelet.conf',
  '/etc/kubernetes/bootstrap-kubelet.conf',
  '/etc/kubernetes/manifests/kube-apiserver.yaml',
  '/etc/kubernetes/manifests/kube-controller-manager.yaml',
  '/etc/kubernetes/manifests/kube-scheduler.yaml',
] as const;

function stampsView() {
  return { stamp: KUBEADM_STAMPS.done, started: KUBEADM_STAMPS.started, stampDir: KUBEADM_STAMPS.dir };
}

function kubeadmRecoverView(ctx: RenderContext) {
  return {
    ...stampsView(),
    verb: ctx.host.isInit ? 'init' : 'join',
    leftovers: [...KUBEADM_LEFTOVERS],
    criSocket: q(ctx.model.cluster.criSocket),
    kubeconfig: ctx.host.isControlPlane ? '/etc/kubernetes/admin.conf' : '/etc/kubernetes/kubelet.conf',
    host: q(ctx.host.name),
  };
}

function kubeadmJoinView(ctx: RenderContext) {
  const endpoint = endpointOf(ctx.model);
  return {
    ...stampsView(),
    config: KUBEADM_CONFIG_PATH,
    waitSeconds: JOIN_WAIT_SECONDS,
    what: q(`the API server at https://${endpoint} (run the bundle of ${ctx.model.init.name}, the first control plane, first)`),
    readyzUrl: q(`https://${endpoint}/readyz`),
  };
}

function kernelView(model: ClusterModel) {
  return {
    version: model.cluster.kubernetesVersion,
    refusedFrom: CGROUP_V1_REFUSED_FROM,
    v1Refused: refusesCgroupV1(model),
    v1Allowed: acceptsCgroupV1(model),
    preflightCheck: CGROUP_V1_PREFLIGHT_CHECK,
    ipvs: model.cluster.kubeProxyMode === 'ipvs',
    nftables: model.cluster.kubeProxyMode === 'nftables',
    nftablesDefaultFrom: firstMinorWhere((m) => m.defaultKubeProxyMode === 'nftables'),
  };
}

/** run.sh steps of Kubernetes nodes. */
export const kubernetesSteps: readonly Step[] = [
  {
    phase: 'preflight',
    name: 'the cgroup version and kernel features this Kubernetes needs',
    when: kubernetesNode,
    script: template('preflight-kernel', (ctx) => kernelView(ctx.model)),
    sameOnEveryHost: true,
  },
  {
    phase: 'preflight',
    name: 'no package that cannot stay beside containerd.io (RHEL-like)',
    when: kubernetesNode,
    script: template('preflight-conflicts', () => ({ packages: CONTAINERD_IO_CONFLICTS })),
    sameOnEveryHost: true,
  },
  {
    phase: 'os',
    name: 'swap off now and at boot',
    when: kubernetesNode,
    script: template('os-swap', () => ({ swapLine: q(SWAP_FSTAB_ERE), commentSwap: q(COMMENT_SWAP_SED) })),
    sameOnEveryHost: true,
  },
  { phase: 'os', name: 'SELinux permissive (RHEL-like)', when: kubernetesNode, script: template('os-selinux', () => ({})), sameOnEveryHost: true },
  {
    phase: 'packages',
    name: 'kubelet, kubeadm and kubectl from pkgs.k8s.io, pinned and held',
    when: kubernetesNode,
    script: template('packages-kubernetes', (ctx) => packagesView(ctx.model)),
    sameOnEveryHost: true,
  },
  {
    phase: 'packages',
    name: 'containerd.io from download.docker.com, at least the version Kubernetes supports',
    when: containerdNode,
    script: runtimeScript('packages-containerd'),
    sameOnEveryHost: true,
  },
  { phase: 'packages', name: 'docker-ce and cri-dockerd', when: dockerNode, script: runtimeScript('packages-docker'), sameOnEveryHost: true },
  {
    phase: 'services',
    name: 'containerd running with its config',
    when: containerdNode,
    script: template('services-containerd', (ctx) => ({ config: RUNTIME_PATHS.containerdConfig, configVersion: containerdConfigVersion(ctx.model) })),
    sameOnEveryHost: true,
  },
  {
    phase: 'services',
    name: 'docker and cri-dockerd running with their config',
    when: dockerNode,
    sameOnEveryHost: true,
    script: template('services-docker', () => ({
      units: [RUNTIME_PATHS.criDockerService, RUNTIME_PATHS.criDockerSocket],
      daemonJson: RUNTIME_PATHS.dockerDaemon,
    })),
  },
  { phase: 'services', name: 'kubelet enabled', when: kubernetesNode, script: template('services-kubelet', () => ({})), sameOnEveryHost: true },
  {
    phase: 'kubeadm',
    name: 'a kubeadm init/join that did not complete: reset (when this script started it) or say what to run',
    when: kubernetesNode,
    script: template('kubeadm-recover', kubeadmRecoverView),
  },
  { phase: 'kubeadm', name: 'kubeadm init (first control plane)', when: initNode, script: template('kubeadm-init', kubeadmInitView) },
  { phase: 'kubeadm', name: 'kubeadm join', when: joiningNode, script: template('kubeadm-join', kubeadmJoinView), sameOnEveryHost: true },
  {
    phase: 'kubeadm',
    name: 'restart kube-apiserver when its etcd client certificate changed',
    when: (host) => host.isControlPlane,
    sameOnEveryHost: true,
    script: template('kubeadm-etcd-client-restart', () => ({ files: Object.values(ETCD_CLIENT_FILES).map(q).join(' '), apiServerPort: API_SERVER_PORT })),
  },
  {
    phase: 'kubeadm',
    name: 'control-plane taint as the roles say (kubeadm sets it at init/join only)',
    when: (host) => host.isControlPlane,
    script: template('kubeadm-taints', (ctx) => ({
      adminConf: '/etc/kubernetes/admin.conf',
      host: q(ctx.host.name),
      taint: `${CONTROL_PLANE_TAINT.key}:${CONTROL_PLANE_TAINT.effect}`,
      tainted: taintsFor(ctx.model, ctx.host).length > 0,
    })),
  },
  { phase: 'addons', name: 'flannel', when: initNode, script: template('addons-flannel', () => ({ manifest: FLANNEL_MANIFEST_PATH })) },
];
