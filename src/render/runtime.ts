/**
 * Container runtime configuration: containerd's config.toml (smol-toml), or docker's daemon.json plus cri-dockerd units.
 *
 * containerd: the packages phase installs `containerd.io` from download.docker.com on every OS family (Debian 12's own
 * containerd, 1.6.20, is older than current Kubernetes supports). From Kubernetes 1.36, whose oldest supported containerd
 * is 2.0 (CONTAINERD_MINIMUMS), kubeha writes containerd 2.x's own format, `version = 3` with the io.containerd.cri.v1.*
 * plugin tables; below, `version = 2`, which containerd 1.6/1.7 read natively and 2.x migrates in memory at start.
 * containerd 1.x reads a version 3 file without a word and ignores its tables (Debian's 1.6.20: SystemdCgroup false).
 */
import { stringify } from 'smol-toml';
import { imageOf } from '../model/images.js';
import { ETCD_ARCHES } from '../common/etcd-releases.js';
import { fileUrl } from '../model/mirrors.js';
import type { ClusterModel } from '../model/types.js';
import type { Artifact, RenderContext } from './context.js';
import { containerdMinimum } from './node-packages.js';

/** Where CNI plugins and their configs live (kubernetes-cni installs into /opt/cni/bin; flannel adds its plugin there). */
export const CNI_DIRS = { binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d' } as const;

/** The CRI plugin's id in a version 2 config. */
export const CRI_PLUGIN = 'io.containerd.grpc.v1.cri';
/** The CRI plugins' ids in a version 3 config (containerd 2.x): image service and runtime. */
export const CRI_V3_PLUGINS = { images: 'io.containerd.cri.v1.images', runtime: 'io.containerd.cri.v1.runtime' } as const;

/** runc through the v2 shim, in systemd's cgroups like the kubelet. */
const RUNC = { runtime_type: 'io.containerd.runc.v2', options: { SystemdCgroup: true } } as const;

/** containerd config (version 2) as a typed object. */
export interface ContainerdConfigV2 {
  version: 2;
  imports: string[];
  plugins: {
    [CRI_PLUGIN]: {
      sandbox_image: string;
      containerd: { default_runtime_name: 'runc'; runtimes: { runc: typeof RUNC } };
      cni: { bin_dir: string; conf_dir: string };
      registry?: { config_path: string };
    };
  };
}

/**
 * containerd config (version 3, containerd 2.x) as a typed object: the sandbox image is the images plugin's pinned
 * `sandbox` image, the CNI binaries `bin_dirs` (2.1 on; a 2.0 ignores the key and uses the same default, /opt/cni/bin).
 */
export interface ContainerdConfigV3 {
  version: 3;
  imports: string[];
  plugins: {
    [CRI_V3_PLUGINS.images]: { pinned_images: { sandbox: string }; registry?: { config_path: string } };
    [CRI_V3_PLUGINS.runtime]: {
      containerd: { default_runtime_name: 'runc'; runtimes: { runc: typeof RUNC } };
      cni: { bin_dirs: string[]; conf_dir: string };
    };
  };
}

/** Either config version. */
export type ContainerdConfig = ContainerdConfigV2 | ContainerdConfigV3;

/** Folder of containerd's per-registry hosts.toml files (CRI registry config_path). */
export const CONTAINERD_HOSTS_DIR = '/etc/containerd/certs.d';
/**
 * The host's own containerd settings, read after kubeha's config.toml (containerd's `imports`, in the same config
 * version): what only the site knows, such as a proxy, another runtime, or restrict_oom_score_adj where containerd runs
 * without CAP_SYS_RESOURCE (LXC and nspawn hosts). containerd 2.x merges them key by key; 1.6/1.7 replace a plugin's
 * whole table with the drop-in's (then repeat kubeha's keys of that table). kubeha never writes there; a change there
 * needs a containerd restart.
 */
export const CONTAINERD_DROP_INS = '/etc/containerd/conf.d/*.toml';

/** The config version kubeha writes: 3 where the cluster's containerd is 2.x (its oldest supported one is 2.0 or later), else 2. */
export function containerdConfigVersion(model: ClusterModel): 2 | 3 {
  return Number(containerdMinimum(model).split('.')[0]) >= 2 ? 3 : 2;
}

/** containerd's settings: systemd cgroups for runc, the pause image of this Kubernetes version, the CNI folders, the host's drop-ins. */
export function containerdConfig(model: ClusterModel): ContainerdConfig {
  const registry = registryMirrors(model).length ? { registry: { config_path: CONTAINERD_HOSTS_DIR } } : {};
  const containerd = { default_runtime_name: 'runc' as const, runtimes: { runc: RUNC } };
  if (containerdConfigVersion(model) === 3) {
    return {
      version: 3,
      imports: [CONTAINERD_DROP_INS],
      plugins: {
        [CRI_V3_PLUGINS.images]: { pinned_images: { sandbox: imageOf(model, 'pause') }, ...registry },
        [CRI_V3_PLUGINS.runtime]: { containerd, cni: { bin_dirs: [CNI_DIRS.binDir], conf_dir: CNI_DIRS.confDir } },
      },
    };
  }
  return {
    version: 2,
    imports: [CONTAINERD_DROP_INS],
    plugins: {
      [CRI_PLUGIN]: { sandbox_image: imageOf(model, 'pause'), containerd, cni: { bin_dir: CNI_DIRS.binDir, conf_dir: CNI_DIRS.confDir }, ...registry },
    },
  };
}

/** The inventory's registry mirrors as [upstream registry, mirror URL], sorted by registry. */
export function registryMirrors(model: ClusterModel): [string, string][] {
  return [...model.mirrors.registries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The server containerd falls back to for a registry (docker.io's API is served by registry-1.docker.io). */
const REGISTRY_SERVERS: ReadonlyMap<string, string> = new Map([['docker.io', 'https://registry-1.docker.io']]);

/** A registry's hosts.toml as a typed object: the mirror first (pull and resolve); a mirror path replaces /v2 (override_path). */
export function hostsToml(registry: string, mirror: string): { server: string; host: Record<string, { capabilities: string[]; override_path?: true }> } {
  const url = new URL(mirror);
  const hasPath = url.pathname !== '/' && url.pathname !== '';
  const host = hasPath ? `${url.origin}/v2${url.pathname}` : url.origin;
  return {
    server: REGISTRY_SERVERS.get(registry) ?? `https://${registry}`,
    host: { [host]: { capabilities: ['pull', 'resolve'], ...(hasPath ? { override_path: true as const } : {}) } },
  };
}

/** /etc/containerd/certs.d/<registry>/hosts.toml for every registry mirror (containerd nodes only). */
export function registryHostsArtifacts(model: ClusterModel): Artifact[] {
  return registryMirrors(model).map(
    ([registry, mirror]): Artifact => ({
      path: `${CONTAINERD_HOSTS_DIR}/${registry}/hosts.toml`,
      mode: 0o644,
      sameOnEveryHost: true,
      when: (host, m) => host.isKubernetesNode && !usesDocker(m),
      render: () =>
        `# Generated by kubeha: ${registry} images are pulled from ${mirror}; containerd falls back to the server only when the mirror fails.\n${stringify(hostsToml(registry, mirror))}\n`,
    }),
  );
}

/** The first line of config.toml: which containerd reads it, and the version a drop-in must use. */
const CONTAINERD_HEADERS = {
  2: '# Generated by kubeha; containerd 1.6/1.7 read version 2 natively, 2.x migrates it at start. Drop-ins in conf.d: version 2 too.\n',
  3: '# Generated by kubeha for containerd 2.x (version 3; containerd 1.x would ignore its tables). Drop-ins in conf.d: version 3 (or 2).\n',
} as const;

/** /etc/containerd/config.toml */
export function renderContainerdConfig(ctx: RenderContext): string {
  const config = containerdConfig(ctx.model);
  return CONTAINERD_HEADERS[config.version] + stringify(config) + '\n';
}

/**
 * docker's daemon.json: systemd cgroups (as the kubelet), bounded json-file logs, overlay2, live restore (containers keep
 * running while dockerd restarts for a config change or an upgrade: docs.docker.com/engine/daemon/live-restore), the
 * docker.io mirror.
 */
export interface DockerDaemonConfig {
  'exec-opts': string[];
  'log-driver': 'json-file';
  'log-opts': { 'max-size': string; 'max-file': string };
  'storage-driver': 'overlay2';
  'live-restore': true;
  'registry-mirrors'?: string[];
}

/** docker's registry-mirrors: only docker.io, and only a mirror without a path (dockerd refuses a path there). */
export function dockerRegistryMirrors(model: ClusterModel): string[] {
  const mirror = model.mirrors.registries.get('docker.io');
  return mirror !== undefined && new URL(mirror).pathname === '/' ? [mirror] : [];
}

/** The daemon.json kubeha writes. */
export function dockerDaemonConfig(model: ClusterModel): DockerDaemonConfig {
  const mirrors = dockerRegistryMirrors(model);
  return {
    'exec-opts': ['native.cgroupdriver=systemd'],
    'log-driver': 'json-file',
    'log-opts': { 'max-size': '100m', 'max-file': '3' },
    'storage-driver': 'overlay2',
    'live-restore': true,
    ...(mirrors.length ? { 'registry-mirrors': mirrors } : {}),
  };
}

/** /etc/docker/daemon.json */
export function renderDockerDaemon(ctx: RenderContext): string {
  return JSON.stringify(dockerDaemonConfig(ctx.model), null, 2) + '\n';
}

/** The cri-dockerd release the packages phase installs (static binary from the Mirantis/cri-dockerd release tarball). */
export const CRI_DOCKERD = {
  version: '0.3.16',
  binary: '/usr/local/bin/cri-dockerd',
  /** The socket the CRI socket of the model (unix:///var/run/cri-dockerd.sock) points at; /var/run is /run. */
  socket: '/run/cri-dockerd.sock',
} as const;

/**
 * SHA-256 of the cri-dockerd release tarballs, by architecture. Source: kubernetes-sigs/kubespray
 * roles/kubespray_defaults/vars/main/checksums.yml (cri_dockerd_archive_checksums, 0.3.16).
 */
export const CRI_DOCKERD_SHA256: Readonly<Record<'amd64' | 'arm64', string>> = {
  amd64: 'cc7f181ce850130dc375515c54cd8a27e1e862252abc5b7eade7b4a03ddabd8e',
  arm64: '0ab930b6f7ab87697cd94c954d01e19fdd5b5d65810662effb957c5db49a55d4',
};

/** The cri-dockerd tarballs run.sh may download (after mirrors.files), with `uname -m` and SHA-256. */
export function criDockerdTarballs(model: ClusterModel): { arch: string; uname: string; url: string; sha256: string }[] {
  return ETCD_ARCHES.map(({ arch, uname }) => ({
    arch,
    uname,
    sha256: CRI_DOCKERD_SHA256[arch],
    url: fileUrl(
      model.mirrors,
      `https://github.com/Mirantis/cri-dockerd/releases/download/v${CRI_DOCKERD.version}/cri-dockerd-${CRI_DOCKERD.version}.${arch}.tgz`,
    ),
  }));
}

/** The flags cri-dockerd runs with: docker through socket activation, CNI networking, this cluster's pause image. */
export function criDockerdArgs(model: ClusterModel): string[] {
  return [
    '--container-runtime-endpoint',
    'fd://',
    '--network-plugin=cni',
    `--cni-bin-dir=${CNI_DIRS.binDir}`,
    `--cni-conf-dir=${CNI_DIRS.confDir}`,
    `--pod-infra-container-image=${imageOf(model, 'pause')}`,
  ];
}

/** The docker-backed runtime is in use. */
export const usesDocker = (model: ClusterModel) => model.cluster.containerRuntime === 'docker';
