/** What every renderer receives, and the shapes of artifacts and run.sh steps. */
import type { ClusterModel, HostModel } from '../model/types.js';
import type { Secrets } from '../pki/secrets.js';
import type { ConfigCheck } from './config-checks.js';

/** Template sources by their path under templates/, such as `sysctl.conf.ejs`. */
export type Templates = ReadonlyMap<string, string>;

/** The inputs of one host's rendering. */
export interface RenderContext {
  model: ClusterModel;
  host: HostModel;
  secrets: Secrets;
  templates: Templates;
}

/** Which hosts get a file or a step. */
export type HostFilter = (host: HostModel, model: ClusterModel) => boolean;

/** One file installed on the target: absolute target path, mode, who gets it, how it is made. */
export interface Artifact {
  path: string;
  mode: number;
  when: HostFilter;
  render: (ctx: RenderContext) => string | Buffer;
  /** systemd units to restart (or reload) when this file changes on the host. */
  restarts?: readonly string[];
  /** The content depends on the cluster only, not on the host: rendered once per compile. */
  sameOnEveryHost?: boolean;
  /** The daemon's check run.sh runs on a new version before it replaces the installed one. */
  check?: ConfigCheck;
}

/** The phases of run.sh, in the order they run. */
export const PHASES = ['preflight', 'os', 'packages', 'files', 'services', 'kubeadm', 'addons'] as const;

/** A phase of run.sh. */
export type Phase = (typeof PHASES)[number];

/** A named piece of bash in one phase of run.sh; it acts only through run.sh's helpers so --dry-run holds. */
export interface Step {
  phase: Phase;
  name: string;
  when: HostFilter;
  script: (ctx: RenderContext) => string;
  /** The script depends on the cluster only, not on the host: rendered once per compile. */
  sameOnEveryHost?: boolean;
  /** The script depends on the cluster and the host's roles only: rendered once per set of roles. */
  sameForSameRoles?: boolean;
  /** A files-phase step that runs before the bundle's files are installed (it writes a file their checks read). */
  beforeInstall?: boolean;
}
