/**
 * The real kubeadm of each Kubernetes release the e2e site builds (e2e/cluster/components.ts), found in the e2e cache
 * without building anything: `node dist/e2e/cluster/warm.js kubernetes kubernetes-1.37` builds them (.ci/run does).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SITE_CACHE } from '../e2e/cluster/cache.js';
import { component, KUBERNETES_RELEASES, type KubernetesRelease } from '../e2e/cluster/components.js';
import { componentKey } from '../e2e/cluster/programs.js';

/** The need of a test that runs the site's kubeadm of a minor (testNeeding): `kubeadm-1.37`. */
export function kubeadmNeed(minor: number): string {
  return `kubeadm-1.${minor}`;
}

/** The site's Kubernetes release of a minor, if it builds one. */
export function siteRelease(minor: number): KubernetesRelease | undefined {
  return KUBERNETES_RELEASES.find((r) => Number(r.version.split('.')[1]) === minor);
}

/** The built kubeadm of a need (`kubeadm-1.37`) and its version, or why there is none. */
export function siteKubeadm(need: string): { path: string; version: string } | { missing: string } {
  const release = siteRelease(Number(need.replace(/^kubeadm-1\./, '')));
  if (!release) return { missing: `the e2e site builds no ${need}` };
  const c = component(release.id);
  let key: string;
  try {
    key = componentKey(c);
  } catch {
    return { missing: `${need}: go is not installed (the e2e cache is keyed on go version)` };
  }
  const dir = join(SITE_CACHE, 'programs', `${c.id}-${c.version}-${key}`);
  if (!existsSync(join(dir, '.complete')))
    return { missing: `kubeadm ${release.version} is not built in ${SITE_CACHE} (node dist/e2e/cluster/warm.js ${c.id})` };
  return { path: join(dir, 'kubeadm'), version: release.version };
}
