/** One host's rendered files: rootfs/ from the artifact list, and run.sh from the steps and those files. Pure. */
import { byPath } from '../common/files.js';
import type { ConfigCheck } from './config-checks.js';
import type { Artifact, RenderContext, Step } from './context.js';
import { renderRunScript } from './run-script.js';
import { sharedRender } from './shared.js';

/** A rendered file: path inside the host folder, mode, contents. */
export interface HostFile {
  path: string;
  mode: number;
  bytes: Buffer;
}

/** A rendered rootfs file with the check run.sh runs on it. */
type RootfsFile = HostFile & { check?: ConfigCheck };

/** Renders every artifact the host gets (sorted by path), then run.sh, which installs them. */
export function renderHostFiles(ctx: RenderContext, artifacts: readonly Artifact[], steps: readonly Step[]): HostFile[] {
  const mine = artifacts.filter((a) => a.when(ctx.host, ctx.model));
  const seen = new Set<string>();
  const rootfs = mine
    .map((a): RootfsFile => {
      if (seen.has(a.path)) throw new Error(`two artifacts install ${a.path} on ${ctx.host.name}`);
      seen.add(a.path);
      return {
        path: `rootfs${a.path}`,
        mode: a.mode,
        bytes: a.sameOnEveryHost ? sharedRender(ctx, a, 'cluster', () => toBytes(a.render(ctx))) : toBytes(a.render(ctx)),
        ...(a.check ? { check: a.check } : {}),
      };
    })
    .sort(byPath);
  const runScript: HostFile = {
    path: 'run.sh',
    mode: 0o755,
    bytes: Buffer.from(
      renderRunScript(
        ctx,
        steps,
        rootfs.map((f) => ({ path: f.path.slice('rootfs'.length), mode: f.mode, ...(f.check ? { check: f.check } : {}) })),
      ),
      'utf8',
    ),
  };
  return [...rootfs.map(({ check: _check, ...file }) => file), runScript];
}

const toBytes = (rendered: string | Buffer): Buffer => (typeof rendered === 'string' ? Buffer.from(rendered, 'utf8') : rendered);
