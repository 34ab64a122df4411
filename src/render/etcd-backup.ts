/** etcd backups: a timer and a service that snapshot each member on a schedule, and the script that restores a snapshot. */
import type { ClusterModel } from '../model/types.js';
import type { Artifact, HostFilter, RenderContext, Step } from './context.js';
import { ETCD_PKI_DIR, ETCD_UNIT, ETCD_USER, etcdBinDir, localClientURL, memberOf } from './etcd.js';
import { tokensOf } from './secret-files.js';
import { renderTemplate, shellQuote } from './templates.js';

/** The service that takes one snapshot. */
export const ETCD_BACKUP_SERVICE = 'etcd-backup.service';
/** The timer that starts it on etcd.backup.schedule. */
export const ETCD_BACKUP_TIMER = 'etcd-backup.timer';
/** Where the two units are installed. */
export const ETCD_BACKUP_UNIT_PATHS = { service: `/etc/systemd/system/${ETCD_BACKUP_SERVICE}`, timer: `/etc/systemd/system/${ETCD_BACKUP_TIMER}` } as const;
/** The script the service runs: snapshot, checksum, rename, retention. */
export const ETCD_BACKUP_SCRIPT_PATH = '/usr/local/lib/kubeha/etcd-backup.sh';
/** The operator's restore command: `kubeha-etcd-restore SNAPSHOT`. */
export const ETCD_RESTORE_PATH = '/usr/local/sbin/kubeha-etcd-restore';
/**
 * How far a restore moves the revision ahead (etcdutl snapshot restore --bump-revision, with --mark-compacted): the
 * value of the Kubernetes documentation's etcd restore ("Operating etcd clusters for Kubernetes"), far beyond the
 * writes a cluster makes between a snapshot and its restore.
 */
export const ETCD_RESTORE_REVISION_BUMP = 1_000_000_000;
/** The longest a snapshot may take before systemd stops it (etcdctl snapshot save has no timeout of its own). */
export const ETCD_BACKUP_TIMEOUT = '1h';

const etcdMember: HostFilter = (host) => host.isEtcd;
const q = shellQuote;
const pki = (file: string) => q(`${ETCD_PKI_DIR}/${file}`);

/** File name prefix of a member's snapshots: `etcd-<member>-<UTC time>.db`. */
export function snapshotPrefix(memberName: string): string {
  return `etcd-${memberName}-`;
}

/** A bash glob matching exactly the UTC time of a snapshot name (date -u +%Y%m%dT%H%M%SZ), and nothing else. */
export const SNAPSHOT_STAMP_GLOB = `${'[0-9]'.repeat(8)}T${'[0-9]'.repeat(6)}Z`;

/**
 * The programs that can restore a snapshot, the first installed one wins: etcdutl from etcd 3.5 on (etcdctl's restore is
 * deprecated there and gone in 3.6), etcdctl for 3.4 (Debian's etcd-client 3.4 has no etcdutl).
 */
export function restoreTools(model: ClusterModel): string[] {
  const bin = etcdBinDir(model);
  if (model.etcd.install === 'distro') return [`${bin}/etcdutl`, `${bin}/etcdctl`];
  return Number(model.etcd.version.split('.')[1]) >= 5 ? [`${bin}/etcdutl`] : [`${bin}/etcdctl`];
}

const unitView = (ctx: RenderContext) => ({
  hostName: ctx.host.name,
  clusterName: ctx.model.cluster.name,
  serviceUnit: ETCD_BACKUP_SERVICE,
  timerUnit: ETCD_BACKUP_TIMER,
});

/** systemd would expand `%` and `$` and split values on blanks: the schema admits none where it matters; this guards it. */
function unitSafe(what: string, value: string, blanks = false): string {
  if (!(blanks ? /^[A-Za-z0-9_.,:/*~ -]+$/ : /^[A-Za-z0-9_.:/-]+$/).test(value))
    throw new Error(`${what} ${JSON.stringify(value)} is not safe in a systemd unit`);
  return value;
}

/** Renders etcd-backup.service. */
export function renderBackupService(ctx: RenderContext): string {
  return renderTemplate(ctx.templates, 'etcd/backup.service.ejs', {
    ...unitView(ctx),
    etcdUnit: ETCD_UNIT,
    user: ETCD_USER,
    script: ETCD_BACKUP_SCRIPT_PATH,
    timeout: ETCD_BACKUP_TIMEOUT,
    dir: unitSafe('etcd.backup.dir', ctx.model.etcd.backup.dir),
  });
}

/** Renders etcd-backup.timer. */
export function renderBackupTimer(ctx: RenderContext): string {
  return renderTemplate(ctx.templates, 'etcd/backup.timer.ejs', {
    ...unitView(ctx),
    schedule: unitSafe('etcd.backup.schedule', ctx.model.etcd.backup.schedule, true),
  });
}

/** Renders the snapshot script the service runs. */
export function renderBackupScript(ctx: RenderContext): string {
  const { model, host } = ctx;
  return renderTemplate(ctx.templates, 'etcd/backup.sh.ejs', {
    ...unitView(ctx),
    name: host.name,
    user: ETCD_USER,
    dir: q(model.etcd.backup.dir),
    keep: model.etcd.backup.keep,
    prefix: q(snapshotPrefix(host.name)),
    stampGlob: SNAPSHOT_STAMP_GLOB,
    etcdctl: q(`${etcdBinDir(model)}/etcdctl`),
    endpoint: q(localClientURL(model)),
    ca: pki('ca.crt'),
    // The member's server certificate is also a client certificate (etcd-server in pki/cert-list.ts has clientAuth).
    cert: pki('server.crt'),
    key: pki('server.key'),
  });
}

/** Renders kubeha-etcd-restore for one member: its own name and peer URL, the cluster's members and token. */
export function renderRestoreScript(ctx: RenderContext): string {
  const { model, host } = ctx;
  const me = memberOf(model, host);
  const others = model.etcd.members.filter((m) => m.name !== me.name);
  const ports = [model.etcd.clientPort, model.etcd.peerPort];
  return renderTemplate(ctx.templates, 'etcd/restore.sh.ejs', {
    name: q(me.name),
    clusterName: model.cluster.name,
    dataDir: q(model.etcd.dataDir),
    unit: ETCD_UNIT,
    user: ETCD_USER,
    listenFilter: q(ports.map((p) => `sport = :${p}`).join(' or ')),
    ports: ports.join(' and '),
    tools: restoreTools(model).map(q).join(' '),
    initialCluster: q(model.etcd.initialCluster),
    token: q(tokensOf(ctx).etcdClusterToken),
    bumpRevision: ETCD_RESTORE_REVISION_BUMP,
    peerURL: q(me.peerURL),
    others: others.length ? `: run kubeha-etcd-restore with the same snapshot on ${others.map((m) => `${m.name} (${m.address})`).join(', ')}` : '',
  });
}

/** Files every etcd member gets for its backups. */
export const etcdBackupArtifacts: readonly Artifact[] = [
  { path: ETCD_BACKUP_UNIT_PATHS.service, mode: 0o644, when: etcdMember, render: renderBackupService },
  { path: ETCD_BACKUP_UNIT_PATHS.timer, mode: 0o644, when: etcdMember, render: renderBackupTimer, restarts: [ETCD_BACKUP_TIMER] },
  { path: ETCD_BACKUP_SCRIPT_PATH, mode: 0o755, when: etcdMember, render: renderBackupScript },
  { path: ETCD_RESTORE_PATH, mode: 0o755, when: etcdMember, render: renderRestoreScript },
];

function backupStep(ctx: RenderContext): string {
  const unitPaths = [ETCD_BACKUP_UNIT_PATHS.service, ETCD_BACKUP_UNIT_PATHS.timer];
  return renderTemplate(ctx.templates, 'etcd/backup-step.sh.ejs', {
    serviceUnit: ETCD_BACKUP_SERVICE,
    timerUnit: ETCD_BACKUP_TIMER,
    reloadName: 'etcd-backup',
    user: ETCD_USER,
    dir: q(ctx.model.etcd.backup.dir),
    unitPaths: unitPaths.map(q).join(' '),
    timerPath: etcdBackupArtifacts
      .filter((a) => a.restarts?.includes(ETCD_BACKUP_TIMER))
      .map((a) => q(a.path))
      .join(' '),
  });
}

/** run.sh step of etcd members: the snapshot folder, then the timer enabled and started (restarted when it changed). */
export const etcdBackupSteps: readonly Step[] = [{ phase: 'services', name: 'etcd snapshots: folder and timer', when: etcdMember, script: backupStep }];
