/** The one list of artifacts and the one list of run.sh steps, gathered from each concern's module. */
import { baseArtifacts, baseSteps } from './base.js';
import type { Artifact, Step } from './context.js';
import { etcdArtifacts, etcdSteps } from './etcd.js';
import { kubernetesArtifacts, kubernetesSteps } from './kubernetes.js';
import { loadBalancerArtifacts, loadBalancerSteps } from './loadbalancer.js';
import { pkiArtifacts } from './pki.js';
import { upgradeSteps } from './upgrade.js';

/** Every file kubeha can install, with who gets it. */
export const ARTIFACTS: readonly Artifact[] = [...baseArtifacts, ...pkiArtifacts, ...etcdArtifacts, ...loadBalancerArtifacts, ...kubernetesArtifacts];

/** Every run.sh step, with who runs it; steps of one phase run in this order. */
export const STEPS: readonly Step[] = [...baseSteps, ...etcdSteps, ...loadBalancerSteps, ...kubernetesSteps, ...upgradeSteps];
