/**
 * The booted hosts' image: a minimal Debian 12 root (debootstrap minbase, what a bare cloud image has at least) and a
 * flat apt repository of the Debian packages the bundles install, both built once and cached under a key of the
 * package lists, so CI pays the ~3 minutes of debootstrap only when a list changes.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOrThrow } from './proc.js';

/** What the base root holds: Debian's required packages plus what booting with systemd needs. */
export const BASE = {
  suite: 'bookworm',
  variant: 'minbase',
  include: ['systemd', 'systemd-sysv', 'dbus', 'iproute2', 'ca-certificates'],
  mirror: 'http://deb.debian.org/debian',
} as const;

/**
 * Packages the local repository serves (with every dependency the base lacks): what run.sh installs on etcd and
 * load balancer hosts (etcd.install distro), plus what it may install on the way (curl, gnupg, kmod, procps), plus
 * what the Ansible rollout needs on a host.
 */
export const REPO_PACKAGES = [
  'etcd-server',
  'etcd-client',
  'haproxy',
  'keepalived',
  'curl',
  'procps',
  'kmod',
  'gnupg',
  'ca-certificates',
  // With addons.kubePrometheus, etcd members load an nftables filter for the metrics port.
  'nftables',
  // The Ansible rollout (e2e/ansible.ts) installs these on every host: an SSH server and the Python of Ansible's modules.
  'openssh-server',
  'python3',
  // Kubernetes nodes (npm run e2e:cluster): what the pkgs.k8s.io and containerd.io packages depend on and what run.sh
  // installs beside them (conntrack, socat, ipset, ipvsadm): the rest of a node's packages come from the site's mirrors.
  'iptables',
  'conntrack',
  'socat',
  'ethtool',
  'ebtables',
  'ipset',
  'ipvsadm',
  'libseccomp2',
] as const;

/** Default cache folder (CI keeps it between runs when it can). */
export const CACHE_DIR = process.env.KUBEHA_E2E_CACHE ?? '/var/cache/kubeha-e2e';

/** Where the repository appears inside every container. */
export const REPO_MOUNT = '/srv/kubeha-e2e-repo';

/** Bump when the way the image is built changes, so old caches are not reused. */
const RECIPE_VERSION = 1;

/** A short digest of a recipe: the cache key of what it builds. */
function keyOf(recipe: unknown): string {
  return createHash('sha256').update(JSON.stringify({ RECIPE_VERSION, recipe })).digest('hex').slice(0, 16);
}

/** The cache key of the image: the base and the repository's packages. */
export function imageKey(): string {
  return keyOf({ BASE, REPO_PACKAGES });
}

/** A built image: the root to copy per host and the repository folder to bind read-only into each. */
export interface Image {
  root: string;
  repo: string;
  cached: boolean;
  seconds: number;
}

/** Returns the cached image for the current key, building it first when absent. */
export function ensureImage(log: (line: string) => void, cacheDir = CACHE_DIR): Image {
  const started = performance.now();
  const dir = join(cacheDir, `bookworm-${imageKey()}`);
  const image = { root: join(dir, 'root'), repo: join(dir, 'repo') };
  if (existsSync(join(dir, 'complete'))) return { ...image, cached: true, seconds: 0 };
  log(`building the Debian 12 image and package repository in ${dir} (once per package list; about 3-4 minutes)`);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    runOrThrow(['cp', '-a', debootstrapRoot(cacheDir, log), join(tmp, 'root')], 300_000);
    buildRepo(join(tmp, 'root'), join(tmp, 'repo'));
    writeFileSync(join(tmp, 'complete'), `${imageKey()}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  return { ...image, cached: false, seconds: (performance.now() - started) / 1000 };
}

/** The plain debootstrap root, cached on its own (keyed on BASE): a new repository package does not redo it. */
function debootstrapRoot(cacheDir: string, log: (line: string) => void): string {
  const root = join(cacheDir, `debootstrap-${keyOf(BASE)}`);
  if (existsSync(join(root, 'usr/lib/os-release')) && existsSync(`${root}.complete`)) return root;
  log(`debootstrap ${BASE.variant} ${BASE.suite} into ${root} (about 3 minutes)`);
  rmSync(root, { recursive: true, force: true });
  runOrThrow(['debootstrap', `--variant=${BASE.variant}`, `--include=${BASE.include.join(',')}`, BASE.suite, root, BASE.mirror], 900_000);
  writeFileSync(`${root}.complete`, '');
  return root;
}

/**
 * Downloads the repository's packages with the root's own apt (so exactly what the base lacks comes along), moves them
 * into a flat repository, then points the root's apt at that repository only and empties its caches.
 */
function buildRepo(root: string, repo: string): void {
  copyFileSync('/etc/resolv.conf', join(root, 'etc/resolv.conf'));
  const chroot = (args: string[]) => runOrThrow(['chroot', root, ...args], 900_000);
  chroot(['apt-get', 'update', '-qq']);
  chroot(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-qq', '--download-only', '--no-install-recommends', ...REPO_PACKAGES]);
  mkdirSync(repo, { recursive: true });
  const archives = join(root, 'var/cache/apt/archives');
  const debs = readdirSync(archives).filter((n) => n.endsWith('.deb'));
  if (debs.length === 0) throw new Error(`apt-get --download-only fetched nothing for ${REPO_PACKAGES.join(' ')}`);
  for (const deb of debs) renameSync(join(archives, deb), join(repo, deb));
  const packages = runOrThrow(['dpkg-scanpackages', '-m', '.', '/dev/null'], 120_000, repo);
  writeFileSync(join(repo, 'Packages'), packages);
  chroot(['apt-get', 'clean']);
  rmSync(join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
  mkdirSync(join(root, 'var/lib/apt/lists/partial'), { recursive: true });
  writeFileSync(join(root, 'etc/apt/sources.list'), `deb [trusted=yes] file:${REPO_MOUNT} ./\n`);
  writeFileSync(join(root, 'etc/resolv.conf'), '');
}
