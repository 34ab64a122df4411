/** etcd artifacts and run.sh steps (to be filled in). */
import type { Artifact, Step } from './context.js';

/** Files etcd hosts get. */
export const etcdArtifacts: readonly Artifact[] = [];

/** run.sh steps of etcd hosts. */
export const etcdSteps: readonly Step[] = [];
