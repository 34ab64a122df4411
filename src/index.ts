/** kubeha's pure core: compile(model, secrets, templates) → every host's bundle files. No fs, clock or randomness. */
import { hostFiles, type BundleFile } from './bundle/manifest.js';
import type { ClusterModel } from './model/types.js';
import type { Secrets } from './pki/secrets.js';
import { ARTIFACTS, STEPS } from './render/artifacts.js';
import type { Templates } from './render/context.js';

/** The inputs of compile besides the model. */
export interface CompileDeps {
  secrets: Secrets;
  templates: Templates;
}

/** Compiles every host's files, in inventory order; the same inputs always give the same bytes. */
export function compile(model: ClusterModel, deps: CompileDeps): Map<string, BundleFile[]> {
  const bundles = new Map<string, BundleFile[]>();
  for (const host of model.hosts) {
    bundles.set(host.name, hostFiles({ model, host, secrets: deps.secrets, templates: deps.templates }, ARTIFACTS, STEPS));
  }
  return bundles;
}

export type { BundleFile } from './bundle/manifest.js';
