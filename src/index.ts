/** kubeha's pure core: compile(model, secrets, templates) → every host's bundle files and the rollout. No fs, clock or randomness. */
import { bundleFiles, type BundleFile } from './bundle/manifest.js';
import type { ClusterModel, HostModel } from './model/types.js';
import type { Secrets } from './pki/secrets.js';
import { artifactsFor, STEPS } from './render/artifacts.js';
import type { Templates } from './render/context.js';
import { renderHostFiles } from './render/host-files.js';
import { renderRollout, type RolloutFile } from './render/ansible.js';
import { clusterSvg } from './render/picture/index.js';
import { PICTURE_FILE } from './common/output-layout.js';

/** The inputs of compile besides the model. */
export interface CompileDeps {
  secrets: Secrets;
  templates: Templates;
}

/**
 * A compiled cluster. Each host's files are computed when asked for, so a thread compiles only the hosts it packs; it
 * keeps its inputs (plain data a worker thread can receive) so that another thread can compile the same cluster.
 */
export interface CompiledCluster {
  readonly model: ClusterModel;
  readonly deps: CompileDeps;
  /** The hosts, in inventory order. */
  readonly hosts: readonly HostModel[];
  /** The files of `hosts[index]` (run.sh, SHA256SUMS, rootfs/...), sorted by path; computed on each call. */
  hostFiles(index: number): BundleFile[];
  /** The files beside the tarballs: the Ansible inventory and playbook that roll the bundles out in plan order. */
  rollout(): RolloutFile[];
  /** The picture of the cluster beside the tarballs (cluster.svg), as `gen plan --format svg` prints it. */
  picture(): RolloutFile;
}

/** Compiles a cluster: the same inputs always give the same bytes. */
export function compile(model: ClusterModel, deps: CompileDeps): CompiledCluster {
  return {
    model,
    deps,
    hosts: model.hosts,
    hostFiles: (index) => compileHost(model, model.hosts[index]!, deps),
    rollout: () => renderRollout(model, deps.templates),
    picture: () => ({ path: PICTURE_FILE, mode: 0o644, bytes: Buffer.from(clusterSvg(model), 'utf8') }),
  };
}

/** Every host's files by host name, in inventory order (compiles them all). */
export function allHostFiles(compiled: CompiledCluster): Map<string, BundleFile[]> {
  return new Map(compiled.hosts.map((host, index) => [host.name, compiled.hostFiles(index)]));
}

function compileHost(model: ClusterModel, host: HostModel, deps: CompileDeps): BundleFile[] {
  return bundleFiles(renderHostFiles({ model, host, secrets: deps.secrets, templates: deps.templates }, artifactsFor(model), STEPS));
}

export type { RolloutFile } from './render/ansible.js';
export type { Templates } from './render/context.js';
/** Where every node's bundle holds kubeadm's config (gen reads a previous bundle's Kubernetes version from it). */
export { KUBEADM_CONFIG_PATH } from './render/kubeadm.js';
export type { BundleFile } from './bundle/manifest.js';
