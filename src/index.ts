/** kubeha's pure core: compile(model, secrets, templates) → every host's bundle files. No fs, clock or randomness. */
import { hostFiles, type BundleFile } from './bundle/manifest.js';
import type { ClusterModel, HostModel } from './model/types.js';
import type { Secrets } from './pki/secrets.js';
import { artifactsFor, STEPS } from './render/artifacts.js';
import type { Templates } from './render/context.js';

/** The inputs of compile besides the model. */
export interface CompileDeps {
  secrets: Secrets;
  templates: Templates;
}

/** Compiles every host's files, in inventory order; the same inputs always give the same bytes. */
export function compile(model: ClusterModel, deps: CompileDeps): Map<string, BundleFile[]> {
  return new Map(model.hosts.map((host) => [host.name, compileHost(model, host, deps)]));
}

/** Compiles one host's files (run.sh, SHA256SUMS, rootfs/...), sorted by path. */
export function compileHost(model: ClusterModel, host: HostModel, deps: CompileDeps): BundleFile[] {
  return hostFiles({ model, host, secrets: deps.secrets, templates: deps.templates }, artifactsFor(model), STEPS);
}

export type { BundleFile } from './bundle/manifest.js';
