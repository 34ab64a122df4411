/** The external etcd cluster: a systemd unit whose flags come from the model, and the steps that install and start it. */
import type { ClusterModel, EtcdMember, HostModel } from '../model/types.js';
import type { Artifact, HostFilter, RenderContext, Step } from './context.js';
import { knownEtcdReleases } from '../common/etcd-releases.js';
import { etcdTarballs } from '../model/etcd-tarballs.js';
import { ETCD_PKI_DIR } from '../pki/cert-list.js';
import { minExternalEtcdFor } from '../common/versions.js';
import { pkiArtifacts, tokensOf } from './secret-files.js';
import { renderTemplate, shellQuote } from './templates.js';

/** The systemd unit every etcd member runs. */
export const ETCD_UNIT = 'etcd.service';
/** Where the unit is installed. */
export const ETCD_UNIT_PATH = `/etc/systemd/system/${ETCD_UNIT}`;
/** The system user etcd runs as. */
export const ETCD_USER = 'etcd';
/** Folder of the member's CA, certificates and keys (installed by pkiArtifacts, where the certificate list says). */
export { ETCD_PKI_DIR };
/** Seconds run.sh waits for its member to report healthy. */
export const ETCD_HEALTH_TIMEOUT_SECONDS = 120;
/** OS packages of etcd server and etcdctl when etcd.install is `distro`. */
export const ETCD_DISTRO_PACKAGES = { debian: ['etcd-server', 'etcd-client'], rhel: ['etcd'] } as const;

const etcdMember: HostFilter = (host) => host.isEtcd;
const pki = (file: string) => `${ETCD_PKI_DIR}/${file}`;

/** Where the etcd binaries live: the OS package's /usr/bin, or /usr/local/bin for the release tarball. */
export function etcdBinDir(model: ClusterModel): string {
  return model.etcd.install === 'distro' ? '/usr/bin' : '/usr/local/bin';
}

/** The etcd member a host runs; throws for a host that is not one. */
export function memberOf(model: ClusterModel, host: HostModel): EtcdMember {
  const member = model.etcd.members.find((m) => m.name === host.name);
  if (!member) throw new Error(`${host.name} is not an etcd member`);
  return member;
}

/** The local client URL health checks use (the server certificate carries 127.0.0.1). */
export function localClientURL(model: ClusterModel): string {
  return `https://127.0.0.1:${model.etcd.clientPort}`;
}

/** Whether members serve metrics for kube-prometheus (addons.kubePrometheus.enabled). */
export function metricsEnabled(model: ClusterModel): boolean {
  return model.addons.kubePrometheus.enabled;
}

/** The metrics URL of a member: plain HTTP on its own address and etcd.metricsPort (the client port keeps mutual TLS). */
export function metricsURL(model: ClusterModel, member: EtcdMember): string {
  return `http://${member.address}:${model.etcd.metricsPort}`;
}

/** One etcd command-line flag and its value. */
export interface EtcdFlag {
  name: string;
  value: string;
}

/**
 * The flags of a member, in the order the unit prints them. Only flags that etcd 3.4, 3.5 and 3.6 all accept
 * (etcd.io op-guide/configuration, upgrade_3_5, upgrade_3_6).
 */
export function etcdFlags(model: ClusterModel, host: HostModel, clusterToken: string): EtcdFlag[] {
  const me = memberOf(model, host);
  const pairs: [string, string][] = [
    ['name', me.name],
    ['data-dir', model.etcd.dataDir],
    ['listen-client-urls', `${me.clientURL},${localClientURL(model)}`],
    ['advertise-client-urls', me.clientURL],
    ['listen-peer-urls', me.peerURL],
    ['initial-advertise-peer-urls', me.peerURL],
    ['initial-cluster', model.etcd.initialCluster],
    ['initial-cluster-state', model.etcd.initialClusterState],
    ['initial-cluster-token', clusterToken],
    ['client-cert-auth', 'true'],
    ['trusted-ca-file', pki('ca.crt')],
    ['cert-file', pki('server.crt')],
    ['key-file', pki('server.key')],
    ['peer-client-cert-auth', 'true'],
    ['peer-trusted-ca-file', pki('ca.crt')],
    ['peer-cert-file', pki('peer.crt')],
    ['peer-key-file', pki('peer.key')],
    ['quota-backend-bytes', String(model.etcd.quotaBackendBytes)],
    ['logger', 'zap'],
    ...(metricsEnabled(model) ? [['listen-metrics-urls', metricsURL(model, me)] as [string, string]] : []),
  ];
  return pairs.map(([name, value]) => ({ name, value: unitSafe(name, value) }));
}

/** systemd expands `%` and `$` and splits on blanks in ExecStart: values are validated to contain none of them. */
function unitSafe(flag: string, value: string): string {
  if (!/^[A-Za-z0-9_.,:=/@+-]+$/.test(value)) throw new Error(`etcd --${flag} value ${JSON.stringify(value)} is not safe in a systemd unit`);
  return value;
}

/** Renders a member's systemd unit. */
export function renderEtcdUnit(ctx: RenderContext): string {
  const { model, host } = ctx;
  return renderTemplate(ctx.templates, 'etcd/etcd.service.ejs', {
    hostName: host.name,
    clusterName: model.cluster.name,
    binary: `${etcdBinDir(model)}/etcd`,
    args: etcdFlags(model, host, tokensOf(ctx).etcdClusterToken).map((f) => `--${f.name}=${f.value}`),
    user: ETCD_USER,
  });
}

/** The script that adds a new member to a running cluster (with etcd.initialClusterState = existing). */
export const ETCD_MEMBER_ADD_PATH = '/usr/local/lib/kubeha/etcd-member-add.sh';

const joiningMember: HostFilter = (host, model) => host.isEtcd && model.etcd.initialClusterState === 'existing';

/** Renders the member-add script: asks the other members to add this one, unless it has data or is listed. */
export function renderMemberAdd(ctx: RenderContext): string {
  const { model, host } = ctx;
  const me = memberOf(model, host);
  const others = model.etcd.members.filter((m) => m.name !== host.name);
  return renderTemplate(ctx.templates, 'etcd/member-add.sh.ejs', {
    name: q(me.name),
    peerURL: me.peerURL,
    dataDir: q(model.etcd.dataDir),
    etcdctl: q(`${etcdBinDir(model)}/etcdctl`),
    endpoints: others.map((m) => m.clientURL).join(','),
    ca: q(pki('ca.crt')),
    cert: q(pki('server.crt')),
    key: q(pki('server.key')),
  });
}

/** The script that restarts a running member on what is installed, one member at a time (run.sh calls it). */
export const ETCD_RESTART_PATH = '/usr/local/lib/kubeha/etcd-restart.sh';

/** Renders the restart script: waits for a quorum of the other members, restarts, waits until this member serves. */
export function renderRestart(ctx: RenderContext): string {
  const { model, host } = ctx;
  const others = model.etcd.members.filter((m) => m.name !== host.name);
  return renderTemplate(ctx.templates, 'etcd/restart.sh.ejs', {
    name: q(host.name),
    clusterName: model.cluster.name,
    members: model.etcd.members.length,
    // A quorum among the others; with one or two members no restart keeps it: then every other member must be healthy.
    needed: Math.min(Math.floor(model.etcd.members.length / 2) + 1, others.length),
    others: others.map((m) => q(m.clientURL)),
    own: q(localClientURL(model)),
    timeout: ETCD_HEALTH_TIMEOUT_SECONDS,
    unit: ETCD_UNIT,
    etcdctl: q(`${etcdBinDir(model)}/etcdctl`),
    ca: q(pki('ca.crt')),
    cert: q(pki('server.crt')),
    key: q(pki('server.key')),
  });
}

/** Files etcd hosts get (their certificates and keys come from pkiArtifacts). */
export const etcdArtifacts: readonly Artifact[] = [
  { path: ETCD_UNIT_PATH, mode: 0o644, when: etcdMember, render: renderEtcdUnit, restarts: [ETCD_UNIT] },
  { path: ETCD_MEMBER_ADD_PATH, mode: 0o755, when: joiningMember, render: renderMemberAdd },
  { path: ETCD_RESTART_PATH, mode: 0o755, when: etcdMember, render: renderRestart },
];

/**
 * What a running member must have been started with, whose change restarts it: every artifact that says so, and the
 * etcd binary itself (a new etcd.version replaces it under the running process, which keeps running the old one).
 */
export function etcdRestartFiles(model: ClusterModel): string[] {
  const files = [...pkiArtifacts, ...etcdArtifacts].filter((a) => a.restarts?.includes(ETCD_UNIT)).map((a) => a.path);
  return [...files, `${etcdBinDir(model)}/etcd`];
}

/** The member's private keys, which etcd (not root) must read. */
export function etcdKeyFiles(): string[] {
  return pkiArtifacts.filter((a) => a.path.startsWith(`${ETCD_PKI_DIR}/`) && a.mode === 0o600).map((a) => a.path);
}

const q = shellQuote;

function installScript(ctx: RenderContext): string {
  const { model } = ctx;
  const binDir = etcdBinDir(model);
  if (model.etcd.install === 'distro') {
    return renderTemplate(ctx.templates, 'etcd/install-distro.sh.ejs', {
      binaries: ['etcd', 'etcdctl'].map((b) => q(`${binDir}/${b}`)),
      debianPackages: ETCD_DISTRO_PACKAGES.debian.join(' '),
      rhelPackages: ETCD_DISTRO_PACKAGES.rhel.join(' '),
      etcd: q(`${binDir}/etcd`),
      etcdPath: `${binDir}/etcd`,
      minimum: minExternalEtcdFor(model.cluster.kubernetesVersion),
      kubernetesVersion: model.cluster.kubernetesVersion,
      noPackage: q('this OS has no etcd package (RHEL 9 and its rebuilds ship none): set etcd.install to release'),
    });
  }
  const version = model.etcd.version;
  const minor = Number(version.split('.')[1]);
  return renderTemplate(ctx.templates, 'etcd/install-release.sh.ejs', {
    version,
    etcd: q(`${binDir}/etcd`),
    binDir: q(binDir),
    tools: minor >= 5 ? 'etcd etcdctl etcdutl' : 'etcd etcdctl',
    tarballs: etcdTarballs(version, model.etcd.tarballs, model.mirrors).map((t) => ({
      uname: t.uname,
      url: q(t.url),
      file: q(t.file),
      folder: q(t.folder),
      sha256: t.sha256,
    })),
    refusal: `kubeha knows no SHA-256 checksum of the etcd v${version} release for $(uname -m): set etcd.version to one of ${knownEtcdReleases().join(', ')} (amd64, arm64), give etcd.tarballs, or set etcd.install to distro`,
  });
}

function userScript(ctx: RenderContext): string {
  return renderTemplate(ctx.templates, 'etcd/user.sh.ejs', {
    user: ETCD_USER,
    dataDir: q(ctx.model.etcd.dataDir),
    keys: etcdKeyFiles().map(q).join(' '),
  });
}

function startScript(ctx: RenderContext): string {
  const { model, host } = ctx;
  const others = model.etcd.members.filter((m) => m.name !== host.name);
  const quorum = Math.floor(model.etcd.members.length / 2) + 1;
  const peers = others.length
    ? `; it needs ${quorum} of ${model.etcd.members.length} members up (quorum): run the bundles of ${others.map((m) => `${m.name} (${m.address})`).join(', ')} at the same time`
    : '';
  const what = `etcd member ${host.name} to report healthy at ${localClientURL(model)}${peers}; see journalctl -u ${ETCD_UNIT}`;
  return renderTemplate(ctx.templates, 'etcd/start.sh.ejs', {
    unit: ETCD_UNIT,
    unitPath: q(ETCD_UNIT_PATH),
    restartFiles: etcdRestartFiles(model).map(q).join(' '),
    restartScript: q(ETCD_RESTART_PATH),
    timeout: ETCD_HEALTH_TIMEOUT_SECONDS,
    what: q(what),
    etcdctl: q(`${etcdBinDir(model)}/etcdctl`),
    endpoint: q(localClientURL(model)),
    ca: q(pki('ca.crt')),
    cert: q(pki('server.crt')),
    key: q(pki('server.key')),
  });
}

function memberAddScript(ctx: RenderContext): string {
  return renderTemplate(ctx.templates, 'etcd/member-add-step.sh.ejs', { dataDir: q(ctx.model.etcd.dataDir), script: q(ETCD_MEMBER_ADD_PATH) });
}

/** run.sh steps of etcd hosts: binaries, user and data dir, (joining members: member add), then start and wait until healthy. */
export const etcdSteps: readonly Step[] = [
  { phase: 'packages', name: 'etcd binaries', when: etcdMember, script: installScript, sameOnEveryHost: true },
  { phase: 'services', name: 'etcd user, data dir and key owners', when: etcdMember, script: userScript, sameOnEveryHost: true },
  { phase: 'services', name: 'join the running etcd cluster (initialClusterState existing)', when: joiningMember, script: memberAddScript },
  { phase: 'services', name: 'start etcd and wait until the member is healthy', when: etcdMember, script: startScript },
];
