/**
 * The site's container images, made with crane from the built programs and cached as OCI image layouts (one folder
 * per image). Static programs sit on an empty base; kube-proxy and flannel need the iptables/nft userspace, so they
 * (and the flannel CNI plugin image, whose init container runs `cp`) sit on a Debian 12 minbase layer with iptables,
 * nftables, conntrack and iproute2, made by debootstrap and cached like e2e/image.ts's root.
 * Entrypoints and paths are what the manifests expect: kubeadm's static pods run `kube-apiserver ...` (on PATH:
 * /usr/local/bin), its kube-proxy DaemonSet runs /usr/local/bin/kube-proxy, CoreDNS's Deployment passes only args to
 * /coredns, kubeha's flannel manifest (src/render/flannel.ts) runs /opt/bin/flanneld and `cp -f /flannel ...`.
 */
import { createServer } from 'node:net';
import { mkdirSync, copyFileSync, chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runOrThrow, sleep, startBackground, killGroup } from '../proc.js';
import { cachedDir, keyOf, type Cached } from './cache.js';
import { component, KUBERNETES_RELEASES, type KubernetesRelease } from './components.js';
import { programsOf, type Programs } from './programs.js';

/** The images kubeha's clusters pull, by the name `gen artifacts` gives each. */
export type SiteImageName =
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kube-proxy'
  | 'coredns'
  | 'pause'
  | 'flannel'
  | 'flannel-cni-plugin'
  | 'probe';

/**
 * How one image is made. `tag` is the only tag it may be served under, unless it is ours or a stand-in (any tag); `from`
 * is the component whose programs it holds when two components build the same name (each Kubernetes release, CoreDNS).
 */
export interface ImageSpec {
  name: SiteImageName;
  from?: string;
  base: 'empty' | 'debian';
  files: { path: string; program: string }[];
  entrypoint: string[];
  user?: string;
  tag?: string;
  note?: string;
}

const PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A Kubernetes image of a release: the program in /usr/local/bin, as upstream's images have it. */
function kube(name: SiteImageName, base: ImageSpec['base'], release: KubernetesRelease): ImageSpec {
  const program = `/usr/local/bin/${name}`;
  return { name, from: release.id, base, files: [{ path: program, program: name }], entrypoint: [program], tag: `v${release.version}` };
}

/** The CoreDNS image of one CoreDNS component (each Kubernetes release names its own). */
function coredns(id: string): ImageSpec {
  return { name: 'coredns', from: id, base: 'empty', files: [{ path: '/coredns', program: 'coredns' }], entrypoint: ['/coredns'], tag: component(id).version };
}

/** An image's key among the built layouts: its name, and its tag when it has one. */
export function imageKey(spec: ImageSpec): string {
  return spec.tag === undefined ? spec.name : `${spec.name}:${spec.tag}`;
}

/** Every image of the site: the control plane and kube-proxy of each Kubernetes release, each release's CoreDNS, the rest once. */
export const IMAGE_SPECS: readonly ImageSpec[] = [
  ...KUBERNETES_RELEASES.flatMap((r) => [
    kube('kube-apiserver', 'empty', r),
    kube('kube-controller-manager', 'empty', r),
    kube('kube-scheduler', 'empty', r),
    kube('kube-proxy', 'debian', r),
  ]),
  ...[...new Set(KUBERNETES_RELEASES.map((r) => r.coredns))].map(coredns),
  {
    name: 'pause',
    base: 'empty',
    files: [{ path: '/pause', program: 'pause' }],
    entrypoint: ['/pause'],
    user: '65535:65535',
    note: 'our own pause (e2e/go/pause), served under the tag the cluster names',
  },
  {
    name: 'flannel',
    base: 'debian',
    files: [{ path: '/opt/bin/flanneld', program: 'flanneld' }],
    entrypoint: ['/opt/bin/flanneld'],
    tag: component('flannel').version,
  },
  {
    name: 'flannel-cni-plugin',
    base: 'debian',
    files: [{ path: '/flannel', program: 'flannel' }],
    entrypoint: ['/flannel'],
    note: `stand-in: ${component('flannel-cni-plugin').standIn}`,
  },
  {
    name: 'probe',
    base: 'empty',
    files: [{ path: '/probe', program: 'probe' }],
    entrypoint: ['/probe'],
    note: "the e2e harness's own workload (e2e/go/probe)",
  },
];

/** The Debian layer's packages (what kube-proxy and flanneld run: iptables/ip6tables, nft, conntrack, ip). */
export const DEBIAN_LAYER = {
  suite: 'bookworm',
  variant: 'minbase',
  include: ['iptables', 'nftables', 'conntrack', 'iproute2'],
  mirror: 'http://deb.debian.org/debian',
} as const;

/** Timestamps of every file in the layers we make. */
const EPOCH = '1784743658';

/** Tars a folder as an image layer (sorted, numeric owners, fixed times). */
function tarLayer(dir: string, out: string): void {
  runOrThrow(['tar', '--sort=name', `--mtime=@${EPOCH}`, '--numeric-owner', '-C', dir, '-cf', out, '.'], 600_000);
}

/** The Debian base layer as a tar, cached on its package list (debootstrap about 3 minutes, once). */
export async function debianLayer(log: (line: string) => void): Promise<Cached & { tar: string }> {
  const made = await cachedDir('debian-layer', keyOf(DEBIAN_LAYER), (tmp) => {
    log(
      `debootstrap ${DEBIAN_LAYER.variant} ${DEBIAN_LAYER.suite} with ${DEBIAN_LAYER.include.join(', ')} (the kube-proxy and flannel base layer; about 3 minutes, once)`,
    );
    const root = join(tmp, 'root');
    const { suite, variant, include, mirror } = DEBIAN_LAYER;
    runOrThrow(['debootstrap', `--variant=${variant}`, `--include=${include.join(',')}`, suite, root, mirror], 900_000);
    for (const sub of [
      'var/cache/apt',
      'var/lib/apt/lists',
      'usr/share/doc',
      'usr/share/man',
      'usr/share/info',
      'usr/share/locale',
      'dev',
      'proc',
      'sys',
      'run',
      'tmp',
    ]) {
      rmSync(join(root, sub), { recursive: true, force: true });
      mkdirSync(join(root, sub), { recursive: true });
    }
    chmodSync(join(root, 'tmp'), 0o1777);
    for (const f of ['etc/resolv.conf', 'etc/hostname']) writeFileSync(join(root, f), '');
    tarLayer(root, join(tmp, 'layer.tar'));
    rmSync(root, { recursive: true, force: true });
  });
  return { ...made, tar: join(made.dir, 'layer.tar') };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs crane against a plain-HTTP registry on loopback. */
function crane(programs: Programs, ...args: string[]): string {
  return runOrThrow([programs.paths.crane!, '--insecure', ...args], 600_000);
}

/** Builds one image into the temporary registry at reg and pulls it into an OCI layout at out. */
function buildImage(spec: ImageSpec, programs: Programs, reg: string, work: string, out: string): void {
  const dir = join(work, imageKey(spec));
  const paths = spec.from ? programsOf(programs, [spec.from]) : programs.paths;
  for (const f of spec.files) {
    mkdirSync(dirname(join(dir, f.path)), { recursive: true });
    copyFileSync(paths[f.program]!, join(dir, f.path));
    chmodSync(join(dir, f.path), 0o755);
  }
  tarLayer(dir, `${dir}.tar`);
  const ref = `${reg}/${spec.name}:${spec.tag ?? 'site'}`;
  const base = spec.base === 'debian' ? ['--base', `${reg}/debian:layer`] : ['--oci-empty-base'];
  crane(programs, 'append', ...base, '--new_layer', `${dir}.tar`, '--new_tag', ref);
  const user = spec.user ? ['--user', spec.user] : [];
  const labels = spec.note ? ['--label', `org.opencontainers.image.description=${spec.note}`] : [];
  crane(programs, 'mutate', ref, '--set-platform', 'linux/amd64', '--entrypoint', spec.entrypoint.join(','), '--env', PATH, ...user, ...labels, '--tag', ref);
  crane(programs, 'pull', '--format', 'oci', ref, out);
}

/** The built images: each one's OCI layout folder, by imageKey (`kube-apiserver:v1.37.2`, `pause`). */
export interface Images {
  layouts: Record<string, string>;
  /** The Debian base layer's build. */
  layer: Cached & { tar: string };
  dir: string;
  cached: boolean;
  seconds: number;
}

/** Builds (or finds cached) every image, through a throwaway `crane registry serve` on loopback. */
export async function buildImages(programs: Programs, log: (line: string) => void): Promise<Images> {
  const layer = await debianLayer(log);
  const key = keyOf({ IMAGE_SPECS, layer: layer.dir, programs: programs.components.map((c) => c.dir), PATH });
  const made = await cachedDir('images', key, async (tmp) => {
    log(`crane: ${IMAGE_SPECS.map(imageKey).join(', ')}`);
    const port = await freePort();
    const server = startBackground([programs.paths.crane!, 'registry', 'serve', '--address', `127.0.0.1:${port}`], join(tmp, 'registry.log'));
    try {
      await sleep(500);
      const reg = `127.0.0.1:${port}`;
      crane(programs, 'append', '--oci-empty-base', '--new_layer', layer.tar, '--new_tag', `${reg}/debian:layer`);
      for (const spec of IMAGE_SPECS) buildImage(spec, programs, reg, join(tmp, 'work'), join(tmp, imageKey(spec)));
    } finally {
      killGroup(server, 'SIGTERM');
    }
    rmSync(join(tmp, 'work'), { recursive: true, force: true });
  });
  const layouts = Object.fromEntries(IMAGE_SPECS.map((s) => [imageKey(s), join(made.dir, imageKey(s))]));
  return { layouts, layer, ...made };
}

/** Every digest an OCI layout holds (index entries, manifests, configs, layers): what a client may fetch of it. */
export function layoutDigests(layout: string): string[] {
  const blob = (digest: string) => JSON.parse(readFileSync(join(layout, 'blobs', ...digest.split(':')), 'utf8')) as Record<string, unknown>;
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const out = new Set<string>();
  const visit = (digest: string): void => {
    out.add(digest);
    const doc = blob(digest) as { manifests?: { digest: string }[]; config?: { digest: string }; layers?: { digest: string }[] };
    for (const m of doc.manifests ?? []) visit(m.digest);
    if (doc.config) out.add(doc.config.digest);
    for (const l of doc.layers ?? []) out.add(l.digest);
  };
  for (const m of index.manifests) visit(m.digest);
  return [...out].sort();
}
