/** Where stored secrets land on each host, derived from the certificate list; CA keys only on control planes, the etcd CA key nowhere. */
import { certificateAuthorities, keyPairs, leafCertificates, leafStem, type Installation } from '../pki/cert-list.js';
import type { Artifact, HostFilter, RenderContext } from './context.js';

/** The hosts an installation names. */
const HOSTS: Record<Installation['on'], HostFilter> = { 'control-plane': (host) => host.isControlPlane, etcd: (host) => host.isEtcd };

/** Reads one file of the secrets bundle; a missing file is a bug in ensureSecrets. */
export function secretFile(ctx: RenderContext, path: string): string {
  const text = ctx.secrets.files.get(path);
  if (text === undefined) throw new Error(`secrets bundle has no ${path}`);
  return text;
}

/** The files of one installation of a stored certificate or key pair: the public half, and the key when it goes too. */
function installs(installed: readonly Installation[], stem: (ctx: RenderContext) => string, publicExt: 'crt' | 'pub'): Artifact[] {
  return installed.flatMap((at) => {
    const on = { when: HOSTS[at.on], ...(at.on === 'etcd' ? { restarts: ['etcd.service'] } : {}) };
    return [
      { path: `${at.path}.${publicExt}`, mode: 0o644, render: (ctx: RenderContext) => secretFile(ctx, `${stem(ctx)}.${publicExt}`), ...on },
      ...(at.withKey ? [{ path: `${at.path}.key`, mode: 0o600, render: (ctx: RenderContext) => secretFile(ctx, `${stem(ctx)}.key`), ...on }] : []),
    ];
  });
}

/** Certificates and keys installed on control planes and etcd members, where the certificate list says. */
export const pkiArtifacts: readonly Artifact[] = [
  ...certificateAuthorities().flatMap((ca) => installs(ca.installed, () => ca.stem, 'crt')),
  ...keyPairs().flatMap((pair) => installs(pair.installed, () => pair.stem, 'pub')),
  ...leafCertificates().flatMap((leaf) => installs(leaf.installed, (ctx) => leafStem(leaf, leaf.perHost ? ctx.host.name : null), 'crt')),
];

/** The generated tokens and passwords; compile always receives them after ensureSecrets. */
export function tokensOf(ctx: RenderContext): NonNullable<RenderContext['secrets']['tokens']> {
  if (!ctx.secrets.tokens) throw new Error('secrets bundle has no tokens');
  return ctx.secrets.tokens;
}
