/**
 * kube-prometheus itself on the first control plane: the release source tarball through mirrors.files, checked
 * against the inventory's SHA-256 before it is unpacked, manifests/setup (namespace and CRDs) applied server-side, a
 * bounded wait until those CRDs are established, then manifests/ and kubeha's monitors.
 */
import { kubePrometheusTarball } from '../model/kube-prometheus-tarball.js';
import type { Artifact, HostFilter, RenderContext, Step } from './context.js';
import { metricsEnabled } from './etcd.js';
import { dumpDocuments } from './kubeadm.js';
import { KUBE_PROMETHEUS_MONITORS_PATH, kubePrometheusMonitors } from './kube-prometheus-monitors.js';
import { imagesLeftPattern, KUBE_PROMETHEUS_IMAGES_SED, kubePrometheusImageArtifacts, mirroredAddonImages } from './kube-prometheus-images.js';
import { renderTemplate, shellQuote } from './templates.js';
import { ADMIN_CONF } from './upgrade.js';

/** The checksum file `sha256sum --check` reads; it also names the release in the applied-state stamp. */
export const KUBE_PROMETHEUS_SUM_PATH = '/etc/kubernetes/addons/kube-prometheus-release.sha256';
/** Where run.sh downloads the tarball (removed once applied). */
export const KUBE_PROMETHEUS_CACHE = '/var/cache/kubeha';
/** The folder kubeha owns for the unpacked manifests/ (replaced as a whole on every install). */
export const KUBE_PROMETHEUS_DIR = '/var/lib/kubeha/kube-prometheus';
/** Seconds kubectl waits for the CRDs of manifests/setup to be established. */
export const CRD_WAIT_SECONDS = 120;
/** Seconds one download attempt may take (curl --max-time; --retry 3). */
export const DOWNLOAD_MAX_SECONDS = 600;

const addonOn: HostFilter = (host, model) => host.isInit && metricsEnabled(model);
const q = shellQuote;

function tarballOf(ctx: RenderContext) {
  const tarball = kubePrometheusTarball(ctx.model);
  if (!tarball) throw new Error('addons.kubePrometheus is off');
  return tarball;
}

/** Without addons.kubePrometheus.version the release follows the Kubernetes minor, and an upgrade changes the tarball the checksum is for. */
function pinAdvice(ctx: RenderContext): string {
  if (ctx.model.addons.kubePrometheus.version !== undefined) return '';
  return `; v${tarballOf(ctx).version} is the release for Kubernetes 1.${ctx.model.cluster.minor}: after a Kubernetes upgrade the checksum must be the new release's, or set addons.kubePrometheus.version to keep one`;
}

/** The checksum line: the inventory's SHA-256 and the path run.sh downloads to. */
export function renderSumFile(ctx: RenderContext): string {
  const t = tarballOf(ctx);
  return `${t.sha256}  ${KUBE_PROMETHEUS_CACHE}/${t.file}\n`;
}

/** The images run.sh rewrites to their mirrors' names, and the ERE that finds any of them left (null: no mirror). */
function rewriteView(ctx: RenderContext) {
  const images = mirroredAddonImages(ctx.model);
  if (!images.length) return null;
  return {
    sed: q(KUBE_PROMETHEUS_IMAGES_SED),
    left: q(imagesLeftPattern(images)),
    failure: q(
      `kube-prometheus' manifests still name an image of a mirrored registry after ${KUBE_PROMETHEUS_IMAGES_SED} rewrote them (above): nothing was applied; the release's manifests differ from what kubeha knows`,
    ),
  };
}

/** The install step's script. */
export function installScript(ctx: RenderContext): string {
  const t = tarballOf(ctx);
  const rewrite = rewriteView(ctx);
  return renderTemplate(ctx.templates, 'kubernetes/addons-kube-prometheus-install.sh.ejs', {
    rewrite,
    stamped: [KUBE_PROMETHEUS_SUM_PATH, KUBE_PROMETHEUS_MONITORS_PATH, ...(rewrite ? [KUBE_PROMETHEUS_IMAGES_SED] : [])].map(q).join(' '),
    version: t.version,
    url: q(t.url),
    file: q(t.file),
    member: q(`${t.folder}/manifests`),
    cache: q(KUBE_PROMETHEUS_CACHE),
    dest: q(KUBE_PROMETHEUS_DIR),
    sumFile: q(KUBE_PROMETHEUS_SUM_PATH),
    monitors: q(KUBE_PROMETHEUS_MONITORS_PATH),
    kubectl: `kubectl --kubeconfig ${q(ADMIN_CONF)}`,
    maxTime: DOWNLOAD_MAX_SECONDS,
    timeout: CRD_WAIT_SECONDS,
    downloadFailure: q(
      `could not download kube-prometheus v${t.version} from ${t.url} (3 tries, ${DOWNLOAD_MAX_SECONDS}s each): check mirrors.files and the network`,
    ),
    sumFailure: q(
      `the kube-prometheus v${t.version} tarball from ${t.url} does not match addons.kubePrometheus.sha256 (${t.sha256}): nothing was unpacked; check the mirror's copy and the checksum (docs/operations.md)${pinAdvice(ctx)}`,
    ),
    waitFailure: q(
      `kube-prometheus' CRDs were not established within ${CRD_WAIT_SECONDS}s (kubectl wait --for condition=Established): see kubectl get crd; run.sh applies the rest once they are`,
    ),
  });
}

/** Files of the first control plane for the install. */
export const kubePrometheusInstallArtifacts: readonly Artifact[] = [
  { path: KUBE_PROMETHEUS_SUM_PATH, mode: 0o644, when: addonOn, render: renderSumFile },
  { path: KUBE_PROMETHEUS_MONITORS_PATH, mode: 0o644, when: addonOn, render: (ctx) => dumpDocuments(kubePrometheusMonitors(ctx.model)) },
  ...kubePrometheusImageArtifacts,
];

/** The install step, after the kube-system objects. */
export const kubePrometheusInstallSteps: readonly Step[] = [
  { phase: 'addons', name: `kube-prometheus: the release's manifests, then kubeha's monitors`, when: addonOn, script: installScript },
];
