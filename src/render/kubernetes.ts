/** kubernetes artifacts and run.sh steps (to be filled in). */
import type { Artifact, Step } from './context.js';

/** Files kubernetes hosts get. */
export const kubernetesArtifacts: readonly Artifact[] = [];

/** run.sh steps of kubernetes hosts. */
export const kubernetesSteps: readonly Step[] = [];
