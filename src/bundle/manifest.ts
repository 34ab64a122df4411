/** One host's bundle as in-memory files: rootfs/ from the artifact list, run.sh and SHA256SUMS. */
import { createHash } from 'node:crypto';
import type { Artifact, RenderContext, Step } from '../render/context.js';
import { renderRunScript } from '../render/run-script.js';
import { sharedRender } from '../render/shared.js';

/** A file of a bundle: path inside the host folder, mode, contents. */
export interface BundleFile {
  path: string;
  mode: number;
  bytes: Buffer;
}

/** Renders every artifact the host gets, then run.sh, then SHA256SUMS over all of them; sorted by path. */
export function hostFiles(ctx: RenderContext, artifacts: readonly Artifact[], steps: readonly Step[]): BundleFile[] {
  const mine = artifacts.filter((a) => a.when(ctx.host, ctx.model));
  const seen = new Set<string>();
  const rootfs = mine.map((a): BundleFile => {
    if (seen.has(a.path)) throw new Error(`two artifacts install ${a.path} on ${ctx.host.name}`);
    seen.add(a.path);
    return { path: `rootfs${a.path}`, mode: a.mode, bytes: a.sameOnEveryHost ? sharedRender(ctx, a, 'cluster', () => toBytes(a.render(ctx))) : toBytes(a.render(ctx)) };
  }).sort(byPath);
  const runScript: BundleFile = {
    path: 'run.sh',
    mode: 0o755,
    bytes: Buffer.from(renderRunScript(ctx, steps, rootfs.map((f) => ({ path: f.path.slice('rootfs'.length), mode: f.mode }))), 'utf8'),
  };
  const files = [...rootfs, runScript].sort(byPath);
  return [...files, { path: 'SHA256SUMS', mode: 0o644, bytes: Buffer.from(sha256sums(files), 'utf8') }].sort(byPath);
}

const toBytes = (rendered: string | Buffer): Buffer => (typeof rendered === 'string' ? Buffer.from(rendered, 'utf8') : rendered);

/** SHA-256 of a buffer, remembered for shared renders (the same Buffer object on every host). */
const digests = new WeakMap<Buffer, string>();

function sha256(bytes: Buffer): string {
  let digest = digests.get(bytes);
  if (digest === undefined) {
    digest = createHash('sha256').update(bytes).digest('hex');
    digests.set(bytes, digest);
  }
  return digest;
}

/** `sha256sum`-compatible lines for the given files, in their order. */
export function sha256sums(files: readonly { path: string; bytes: Buffer }[]): string {
  return files.map((f) => `${sha256(f.bytes)}  ${f.path}\n`).join('');
}

/** Orders paths by their UTF-8 bytes, the same on every machine and locale. */
export function byPath(a: { path: string }, b: { path: string }): number {
  return compareUtf8(a.path, b.path);
}

/**
 * Compares strings in UTF-8 byte order without encoding them: UTF-16 code unit order equals it for text
 * without surrogate pairs, which holds for every path kubeha writes (host names and fixed paths are ASCII).
 */
export function compareUtf8(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
