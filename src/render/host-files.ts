/** One host's rendered files: rootfs/ from the artifact list, and run.sh from the steps and those files. Pure. */
import { byPath } from '../common/files.js';
import type { Artifact, RenderContext, Step } from './context.js';
import { renderRunScript } from './run-script.js';
import { sharedRender } from './shared.js';

/** A rendered file: path inside the host folder, mode, contents. */
export interface HostFile {
  path: string;
  mode: number;
  bytes: Buffer;
}

/** Renders every artifact the host gets (sorted by path), then run.sh, which installs them. */
export function renderHostFiles(ctx: RenderContext, artifacts: readonly Artifact[], steps: readonly Step[]): HostFile[] {
  const mine = artifacts.filter((a) => a.when(ctx.host, ctx.model));
  const seen = new Set<string>();
  const rootfs = mine
    .map((a): HostFile => {
      if (seen.has(a.path)) throw new Error(`two artifacts install ${a.path} on ${ctx.host.name}`);
      seen.add(a.path);
      return {
        path: `rootfs${a.path}`,
        mode: a.mode,
        bytes: a.sameOnEveryHost ? sharedRender(ctx, a, 'cluster', () => toBytes(a.render(ctx))) : toBytes(a.render(ctx)),
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
        rootfs.map((f) => ({ path: f.path.slice('rootfs'.length), mode: f.mode })),
      ),
      'utf8',
    ),
  };
  return [...rootfs, runScript];
}

const toBytes = (rendered: string | Buffer): Buffer => (typeof rendered === 'string' ? Buffer.from(rendered, 'utf8') : rendered);
