/** Where stored secrets land on each host, declared as data; CA keys only on control planes, the etcd CA key nowhere. */
import type { Artifact, HostFilter, RenderContext } from './context.js';

const controlPlane: HostFilter = (host) => host.isControlPlane;
const etcdMember: HostFilter = (host) => host.isEtcd;

/** Reads one file of the secrets bundle; a missing file is a bug in ensureSecrets. */
export function secretFile(ctx: RenderContext, path: string): string {
  const text = ctx.secrets.files.get(path);
  if (text === undefined) throw new Error(`secrets bundle has no ${path}`);
  return text;
}

const stored = (path: string) => (ctx: RenderContext) => secretFile(ctx, path);
const perMember = (suffix: string) => (ctx: RenderContext) => secretFile(ctx, `etcd/${ctx.host.name}-${suffix}`);

/** Certificates and keys installed on control planes and etcd members. */
export const pkiArtifacts: readonly Artifact[] = [
  { path: '/etc/kubernetes/pki/ca.crt', mode: 0o644, when: controlPlane, render: stored('ca.crt') },
  { path: '/etc/kubernetes/pki/ca.key', mode: 0o600, when: controlPlane, render: stored('ca.key') },
  { path: '/etc/kubernetes/pki/front-proxy-ca.crt', mode: 0o644, when: controlPlane, render: stored('front-proxy-ca.crt') },
  { path: '/etc/kubernetes/pki/front-proxy-ca.key', mode: 0o600, when: controlPlane, render: stored('front-proxy-ca.key') },
  { path: '/etc/kubernetes/pki/sa.key', mode: 0o600, when: controlPlane, render: stored('sa.key') },
  { path: '/etc/kubernetes/pki/sa.pub', mode: 0o644, when: controlPlane, render: stored('sa.pub') },
  { path: '/etc/kubernetes/pki/etcd/ca.crt', mode: 0o644, when: controlPlane, render: stored('etcd/ca.crt') },
  { path: '/etc/kubernetes/pki/apiserver-etcd-client.crt', mode: 0o644, when: controlPlane, render: stored('apiserver-etcd-client.crt') },
  { path: '/etc/kubernetes/pki/apiserver-etcd-client.key', mode: 0o600, when: controlPlane, render: stored('apiserver-etcd-client.key') },
  { path: '/etc/etcd/pki/ca.crt', mode: 0o644, when: etcdMember, render: stored('etcd/ca.crt'), restarts: ['etcd.service'] },
  { path: '/etc/etcd/pki/server.crt', mode: 0o644, when: etcdMember, render: perMember('server.crt'), restarts: ['etcd.service'] },
  { path: '/etc/etcd/pki/server.key', mode: 0o600, when: etcdMember, render: perMember('server.key'), restarts: ['etcd.service'] },
  { path: '/etc/etcd/pki/peer.crt', mode: 0o644, when: etcdMember, render: perMember('peer.crt'), restarts: ['etcd.service'] },
  { path: '/etc/etcd/pki/peer.key', mode: 0o600, when: etcdMember, render: perMember('peer.key'), restarts: ['etcd.service'] },
];

/** The generated tokens and passwords; compile always receives them after ensureSecrets. */
export function tokensOf(ctx: RenderContext): NonNullable<RenderContext['secrets']['tokens']> {
  if (!ctx.secrets.tokens) throw new Error('secrets bundle has no tokens');
  return ctx.secrets.tokens;
}
