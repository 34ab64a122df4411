/** The self-check's other checks: the built programs' versions, the images and the files through the mirror, unlisted requests. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOrThrow, runSync, waitFor } from '../proc.js';
import { splitImage } from './allowlist.js';
import { programsOf } from './programs.js';
import { imagePlan } from './registry.js';
import { client, NET, type Check } from './selfcheck-net.js';
import type { RequestRecord } from './server.js';
import type { SiteBuild } from './site.js';

/** Each program, how to ask its version, and what the answer must contain. */
const VERSIONS: [string, string[], string][] = [
  ['kubeadm', ['version', '-o', 'short'], 'v1.36.3'],
  ['kubelet', ['--version'], 'Kubernetes v1.36.3'],
  ['kubectl', ['version', '--client'], 'Client Version: v1.36.3'],
  ['kube-apiserver', ['--version'], 'Kubernetes v1.36.3'],
  ['kube-controller-manager', ['--version'], 'Kubernetes v1.36.3'],
  ['kube-scheduler', ['--version'], 'Kubernetes v1.36.3'],
  ['kube-proxy', ['--version'], 'Kubernetes v1.36.3'],
  ['etcd', ['--version'], 'etcd Version: 3.6.8'],
  ['etcdctl', ['version'], 'etcdctl version: 3.6.8'],
  ['containerd', ['--version'], 'github.com/containerd/containerd/v2 v2.2.9'],
  ['ctr', ['--version'], 'ctr github.com/containerd/containerd/v2 v2.2.9'],
  ['containerd-shim-runc-v2', ['-v'], 'v2.2.9'],
  ['runc', ['--version'], 'runc version 1.4.4'],
  ['runc', ['--version'], 'libseccomp: 2.'],
  ['crictl', ['--version'], 'crictl version 1.36.0'],
  ['coredns', ['-version'], 'CoreDNS-1.14.2'],
  ['flanneld', ['--version'], 'v0.27.4'],
  ['bridge', [], 'CNI bridge plugin v1.10.0'],
  ['portmap', [], 'CNI portmap plugin v1.10.0'],
  ['flannel', [], 'CNI flannel plugin v0.9.1'],
  ['registry', ['--version'], 'v3.1.2'],
];

/** The programs of the second Kubernetes release, its crictl and its CoreDNS: each component's own build. */
const VERSIONS_137: [string, string, string[], string][] = [
  ['kubernetes-1.37', 'kubeadm', ['version', '-o', 'short'], 'v1.37.2'],
  ['kubernetes-1.37', 'kubelet', ['--version'], 'Kubernetes v1.37.2'],
  ['kubernetes-1.37', 'kubectl', ['version', '--client'], 'Client Version: v1.37.2'],
  ['kubernetes-1.37', 'kube-apiserver', ['--version'], 'Kubernetes v1.37.2'],
  ['kubernetes-1.37', 'kube-controller-manager', ['--version'], 'Kubernetes v1.37.2'],
  ['kubernetes-1.37', 'kube-scheduler', ['--version'], 'Kubernetes v1.37.2'],
  ['kubernetes-1.37', 'kube-proxy', ['--version'], 'Kubernetes v1.37.2'],
  ['cri-tools-1.37', 'crictl', ['--version'], 'crictl version 1.37.0'],
  ['coredns-1.14.6', 'coredns', ['-version'], 'CoreDNS-1.14.6'],
];

/** Runs each program's version command and checks its answer; runc must link libseccomp. */
export function checkPrograms(built: SiteBuild): string {
  const all = [...VERSIONS.map(([p, a, w]) => [built.programs.paths[p]!, p, a, w] as const)];
  for (const [id, p, a, w] of VERSIONS_137) all.push([programsOf(built.programs, [id])[p]!, p, a, w] as const);
  for (const [path, program, args, want] of all) {
    const r = runSync([path, ...args], 30_000);
    if (!(r.stdout + r.stderr).includes(want))
      throw new Error(`${program} ${args.join(' ')} says ${JSON.stringify((r.stdout + r.stderr).trim())}, expected ${want}`);
  }
  const libs = runOrThrow(['ldd', built.programs.paths.runc!]);
  if (!libs.includes('libseccomp.so.2')) throw new Error(`runc does not link libseccomp:\n${libs}`);
  return `${all.length} version answers as expected; runc links ${[...new Set(libs.match(/lib[a-z0-9]+\.so\.[0-9]+/g))].join(', ')}`;
}

/** crane through the mirror from the client namespace, trusting the site CA. */
function crane(ctx: Check, ...args: string[]): string {
  return client(['env', `SSL_CERT_FILE=${ctx.site.caCert}`, ctx.built.programs.paths.crane!, ...args], 300_000);
}

/** The files an image's layers hold (crane export | tar -t). */
function imageFiles(ctx: Check, image: string): string {
  const tar = join(ctx.work, 'export.tar');
  crane(ctx, 'export', image, tar);
  return runOrThrow(['tar', '-tf', tar]);
}

/** Files some images must hold beyond their programs: the userspace kube-proxy and flanneld run, the cp of the init containers. */
const MUST_HOLD: Record<string, string[]> = {
  'kube-proxy': ['usr/sbin/iptables', 'usr/sbin/nft', 'usr/sbin/conntrack', 'usr/local/bin/kube-proxy'],
  flannel: ['usr/sbin/iptables', 'usr/sbin/nft', 'usr/bin/cp', 'opt/bin/flanneld'],
  'flannel-cni-plugin': ['usr/bin/cp', 'flannel'],
};

/** Every listed image's manifest and config through the mirror: amd64/linux, the entrypoint the manifests expect. */
export function checkImages(ctx: Check): string {
  const lines: string[] = [];
  for (const listed of ctx.list.images) {
    const spec = imagePlan({ ...ctx.list, images: [listed] })[0]!.spec;
    const manifest = JSON.parse(crane(ctx, 'manifest', listed.image)) as { mediaType?: string; layers: { size: number }[] };
    const config = JSON.parse(crane(ctx, 'config', listed.image)) as {
      architecture: string;
      os: string;
      config: { Entrypoint?: string[]; Env?: string[]; User?: string };
    };
    const problems = [
      config.architecture !== 'amd64' || config.os !== 'linux' ? `platform ${config.os}/${config.architecture}` : '',
      JSON.stringify(config.config.Entrypoint) !== JSON.stringify(spec.entrypoint) ? `entrypoint ${JSON.stringify(config.config.Entrypoint)}` : '',
      config.config.Env?.some((e) => e.startsWith('PATH=') && e.includes('/usr/local/bin')) ? '' : 'no PATH with /usr/local/bin',
    ].filter(Boolean);
    const files = MUST_HOLD[listed.name] ? imageFiles(ctx, listed.image) : '';
    for (const f of MUST_HOLD[listed.name] ?? []) if (!files.split('\n').includes(f)) problems.push(`no ${f}`);
    if (problems.length) throw new Error(`${listed.image}: ${problems.join(', ')}`);
    const size = manifest.layers.reduce((sum, l) => sum + l.size, 0);
    lines.push(`${listed.image}: ${manifest.layers.length} layer(s), ${(size / 1e6).toFixed(1)} MB, entrypoint ${spec.entrypoint.join(' ')}`);
  }
  return lines.join('\n');
}

/** The listed etcd tarball through the files mirror: its SHA-256 and upstream's layout. */
export function checkEtcdTarball(ctx: Check): string {
  const d = ctx.list.downloads.find((x) => x.what.startsWith('etcd'))!;
  const file = join(ctx.work, 'etcd.tar.gz');
  client(['curl', '-fsS', '--cacert', ctx.site.caCert, '-o', file, d.url]);
  const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
  if (sha !== d.sha256) throw new Error(`${d.url}: sha256 ${sha}, gen artifacts says ${d.sha256}`);
  const top = d.url.split('/').pop()!.replace('.tar.gz', '');
  const listing = runOrThrow(['tar', '-tzf', file]).trim().split('\n').sort();
  const want = [`${top}/`, `${top}/etcd`, `${top}/etcdctl`, `${top}/etcdutl`];
  if (JSON.stringify(listing) !== JSON.stringify(want)) throw new Error(`${d.url} holds ${listing.join(', ')}`);
  return `${d.url}: sha256 ${sha}, ${listing.join(' ')}`;
}

/** An unlisted file and an unlisted image tag: refused (404) and recorded as unlisted. */
export async function checkUnlisted(ctx: Check): Promise<string> {
  const file = `${ctx.site.origin}/files/github.com/etcd-io/etcd/releases/download/v3.6.9/etcd-v3.6.9-linux-amd64.tar.gz`;
  const status = client(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', ctx.site.caCert, file]).trim();
  const pause = ctx.list.images.find((i) => i.name === 'pause')!;
  const { repository } = splitImage(pause.image);
  const other = `${ctx.site.host}/${repository}:0.0.0-unlisted`;
  const pulled = runSync(
    ['ip', 'netns', 'exec', NET.client, 'env', `SSL_CERT_FILE=${ctx.site.caCert}`, ctx.built.programs.paths.crane!, 'manifest', other],
    60_000,
  );
  // A request is logged when its response has gone out: the client may be done a moment earlier.
  const paths = [new URL(file).pathname, `/v2/${repository}/manifests/0.0.0-unlisted`];
  await waitFor('both requests in the log', () => paths.every((p) => ctx.running.requests().some((r) => r.path === p)), 5000).catch(() => 0);
  const unlisted = ctx.running.unlisted().map((r) => r.path);
  const problems = [
    status !== '404' ? `${file} answered ${status}` : '',
    pulled.status === 0 ? `${other} was served` : '',
    unlisted.includes(new URL(file).pathname) ? '' : `${file} not recorded`,
    unlisted.includes(`/v2/${repository}/manifests/0.0.0-unlisted`) ? '' : `${other} not recorded`,
  ].filter(Boolean);
  if (problems.length) throw new Error(problems.join('; '));
  const line = (r: RequestRecord) => `${r.method} ${r.path} ${r.status}: ${r.verdict.listed ? '' : r.verdict.why}`;
  return [...ctx.running.unlisted().map(line), ...ctx.running.beyondList().map((r) => `beyond the list: ${line(r)}`)].join('\n');
}
