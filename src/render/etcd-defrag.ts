/**
 * etcd defragmentation on a schedule: every member's timer starts a service that defragments that member, one member at
 * a time (a lock in etcd, taken through the other members), only while the others keep the quorum without it.
 */
import type { Artifact, HostFilter, RenderContext, Step } from './context.js';
import { ETCD_PKI_DIR, ETCD_UNIT, ETCD_USER, etcdBinDir, localClientURL } from './etcd.js';
import { renderTemplate, shellQuote } from './templates.js';

/** The service that defragments the member once. */
export const ETCD_DEFRAG_SERVICE = 'etcd-defrag.service';
/** The timer that starts it on etcd.defrag.schedule. */
export const ETCD_DEFRAG_TIMER = 'etcd-defrag.timer';
/** Where the two units are installed. */
export const ETCD_DEFRAG_UNIT_PATHS = { service: `/etc/systemd/system/${ETCD_DEFRAG_SERVICE}`, timer: `/etc/systemd/system/${ETCD_DEFRAG_TIMER}` } as const;
/** The script the service runs. */
export const ETCD_DEFRAG_SCRIPT_PATH = '/usr/local/lib/kubeha/etcd-defrag.sh';
/** The lock in etcd the members' defragmentations take one after the other (etcdctl lock NAME). */
export const ETCD_DEFRAG_LOCK = 'kubeha-etcd-defrag';
/** The longest one member's defragmentation (and its wait for the lock) may take. */
export const ETCD_DEFRAG_TIMEOUT = '1h';

const etcdMember: HostFilter = (host) => host.isEtcd;
const q = shellQuote;
const pki = (file: string) => q(`${ETCD_PKI_DIR}/${file}`);

const unitView = (ctx: RenderContext) => ({
  hostName: ctx.host.name,
  clusterName: ctx.model.cluster.name,
  serviceUnit: ETCD_DEFRAG_SERVICE,
  timerUnit: ETCD_DEFRAG_TIMER,
});

/** systemd would expand `%` and `$` and split values on blanks: the schema admits none where it matters; this guards it. */
function calendarSafe(value: string): string {
  if (!/^[A-Za-z0-9_.,:/*~ -]+$/.test(value)) throw new Error(`etcd.defrag.schedule ${JSON.stringify(value)} is not safe in a systemd unit`);
  return value;
}

/** Renders etcd-defrag.service. */
export function renderDefragService(ctx: RenderContext): string {
  return renderTemplate(ctx.templates, 'etcd/defrag.service.ejs', {
    ...unitView(ctx),
    etcdUnit: ETCD_UNIT,
    user: ETCD_USER,
    script: ETCD_DEFRAG_SCRIPT_PATH,
    timeout: ETCD_DEFRAG_TIMEOUT,
  });
}

/** Renders etcd-defrag.timer. */
export function renderDefragTimer(ctx: RenderContext): string {
  return renderTemplate(ctx.templates, 'etcd/defrag.timer.ejs', { ...unitView(ctx), schedule: calendarSafe(ctx.model.etcd.defrag.schedule) });
}

/** Renders the defragmentation script of one member. */
export function renderDefragScript(ctx: RenderContext): string {
  const { model, host } = ctx;
  const others = model.etcd.members.filter((m) => m.name !== host.name);
  return renderTemplate(ctx.templates, 'etcd/defrag.sh.ejs', {
    ...unitView(ctx),
    name: q(host.name),
    user: ETCD_USER,
    // A quorum among the others, as for a restart (render/etcd.ts renderRestart).
    needed: Math.min(Math.floor(model.etcd.members.length / 2) + 1, others.length),
    others: others.map((m) => q(m.clientURL)),
    own: q(localClientURL(model)),
    etcdctl: q(`${etcdBinDir(model)}/etcdctl`),
    ca: pki('ca.crt'),
    cert: pki('server.crt'),
    key: pki('server.key'),
    timeout: ETCD_DEFRAG_TIMEOUT,
    lock: ETCD_DEFRAG_LOCK,
  });
}

/** Files every etcd member gets for its defragmentation. */
export const etcdDefragArtifacts: readonly Artifact[] = [
  { path: ETCD_DEFRAG_UNIT_PATHS.service, mode: 0o644, when: etcdMember, render: renderDefragService },
  { path: ETCD_DEFRAG_UNIT_PATHS.timer, mode: 0o644, when: etcdMember, render: renderDefragTimer, restarts: [ETCD_DEFRAG_TIMER] },
  { path: ETCD_DEFRAG_SCRIPT_PATH, mode: 0o755, when: etcdMember, render: renderDefragScript },
];

function defragStep(ctx: RenderContext): string {
  const unitPaths = [ETCD_DEFRAG_UNIT_PATHS.service, ETCD_DEFRAG_UNIT_PATHS.timer];
  return renderTemplate(ctx.templates, 'etcd/defrag-step.sh.ejs', {
    serviceUnit: ETCD_DEFRAG_SERVICE,
    timerUnit: ETCD_DEFRAG_TIMER,
    reloadName: 'etcd-defrag',
    unitPaths: unitPaths.map(q).join(' '),
    timerPath: q(ETCD_DEFRAG_UNIT_PATHS.timer),
  });
}

/** run.sh step of etcd members: the defragmentation timer enabled and started (restarted when it changed). */
export const etcdDefragSteps: readonly Step[] = [
  { phase: 'services', name: 'etcd defragmentation: timer', when: etcdMember, script: defragStep, sameOnEveryHost: true },
];
