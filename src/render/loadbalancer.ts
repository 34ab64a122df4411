/** loadbalancer artifacts and run.sh steps (to be filled in). */
import type { Artifact, Step } from './context.js';

/** Files loadbalancer hosts get. */
export const loadBalancerArtifacts: readonly Artifact[] = [];

/** run.sh steps of loadbalancer hosts. */
export const loadBalancerSteps: readonly Step[] = [];
