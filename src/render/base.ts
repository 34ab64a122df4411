/** Artifacts and run.sh steps every Kubernetes node shares: kernel modules, sysctls, preflight checks. */
import type { Artifact, Step } from './context.js';
import { modulesFor, renderModulesLoad, renderSysctl } from './kernel.js';
import { fromTemplate, renderTemplate } from './templates.js';

const everyHost = () => true;
const kubernetesNode: Artifact['when'] = (host) => host.isKubernetesNode;

/** Files every Kubernetes node gets. */
export const baseArtifacts: readonly Artifact[] = [
  { path: '/etc/modules-load.d/kubernetes.conf', mode: 0o644, when: kubernetesNode, render: renderModulesLoad, sameOnEveryHost: true },
  { path: '/etc/sysctl.d/99-kubernetes.conf', mode: 0o644, when: kubernetesNode, render: renderSysctl, sameOnEveryHost: true },
];

const step = (name: string, view?: () => object): Step['script'] => fromTemplate(`steps/${name}.sh.ejs`, view);

/** How long preflight waits for a running time service to synchronise the clock before it goes on with a warning. */
export const CLOCK_SYNC_WAIT_SECONDS = 60;

/** Steps of every bundle: preflight checks, then modules and sysctls on Kubernetes nodes. */
export const baseSteps: readonly Step[] = [
  { phase: 'preflight', name: 'running as root', when: everyHost, script: step('preflight-root'), sameOnEveryHost: true },
  { phase: 'preflight', name: 'on the host this bundle was made for', when: everyHost, script: step('preflight-host'), sameOnEveryHost: true },
  { phase: 'preflight', name: 'a supported OS family', when: everyHost, script: step('preflight-os'), sameOnEveryHost: true },
  {
    phase: 'preflight',
    name: 'the clock kept synchronised by a time service',
    when: everyHost,
    script: step('preflight-clock', () => ({ waitSeconds: CLOCK_SYNC_WAIT_SECONDS })),
    sameOnEveryHost: true,
  },
  {
    phase: 'os',
    name: 'kernel modules',
    when: kubernetesNode,
    sameOnEveryHost: true,
    script: (ctx) => renderTemplate(ctx.templates, 'steps/os-modules.sh.ejs', { modules: modulesFor(ctx.model) }),
  },
  { phase: 'services', name: 'apply sysctls', when: kubernetesNode, script: step('os-sysctl'), sameOnEveryHost: true },
];
