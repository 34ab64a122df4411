/**
 * The site's build cache under the e2e cache folder (KUBEHA_E2E_CACHE, default /var/cache/kubeha-e2e): each product in
 * a folder named after what it is and a key of how it is made, built in a temporary folder and renamed into place
 * only when complete, so an interrupted build never leaves a folder that looks done.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_DIR } from '../image.js';

/** The repository root (this file runs as dist/e2e/cluster/cache.js). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where the site's products are cached. */
export const SITE_CACHE = join(CACHE_DIR, 'site');

/** Go's module and build caches, shared by every build of the e2e (and by the lead's probe builds). */
export const GO_CACHES = { GOMODCACHE: join(CACHE_DIR, 'go/mod'), GOCACHE: join(CACHE_DIR, 'go/build') } as const;

/** Bump when the way products are made changes in a way their inputs do not show. */
const RECIPE_VERSION = 1;

/** A short digest of anything JSON can hold. */
export function keyOf(recipe: unknown): string {
  return createHash('sha256').update(JSON.stringify({ RECIPE_VERSION, recipe })).digest('hex').slice(0, 16);
}

/** The SHA-256 of a file, hex. */
export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every file of a folder (recursively, sorted) with its content digest: the key part of a Go module of ours. */
export function folderDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string): void => {
    for (const name of readdirSync(join(dir, sub)).sort()) {
      const rel = sub ? `${sub}/${name}` : name;
      if (statSync(join(dir, rel)).isDirectory()) walk(rel);
      else out[rel] = sha256File(join(dir, rel));
    }
  };
  walk('');
  return out;
}

/** A cached product: its folder, whether it was there already, and the seconds making it took (0 when cached). */
export interface Cached {
  dir: string;
  cached: boolean;
  seconds: number;
}

/** Returns `SITE_CACHE/<name>-<key>`, making it first with make(tmp) when absent; a failed make leaves nothing. */
export async function cachedDir(name: string, key: string, make: (tmp: string) => Promise<void> | void, root = SITE_CACHE): Promise<Cached> {
  const dir = join(root, `${name}-${key}`);
  if (existsSync(join(dir, '.complete'))) return { dir, cached: true, seconds: 0 };
  const started = performance.now();
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await make(tmp);
    writeFileSync(join(tmp, '.complete'), `${key}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
  return { dir, cached: false, seconds: (performance.now() - started) / 1000 };
}

/** Runs argv with extra environment, its output appended to logFile; rejects with the log's tail unless it exits 0. */
export function runLogged(argv: readonly string[], opts: { env?: Record<string, string>; cwd?: string; log: string; timeoutMs: number }): Promise<void> {
  mkdirSync(dirname(opts.log), { recursive: true });
  const fd = openSync(opts.log, 'a');
  writeFileSync(fd, `\n$ ${argv.join(' ')}\n`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), opts.timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      if (status === 0) return resolvePromise();
      const tail = readFileSync(opts.log, 'utf8').trimEnd().split('\n').slice(-40).join('\n');
      reject(
        new Error(
          `${argv.join(' ')}: ${signal ? `killed by ${signal} (limit ${opts.timeoutMs / 1000} s)` : `exit status ${status}`} (log ${opts.log})\n${tail}`,
        ),
      );
    });
  });
}
