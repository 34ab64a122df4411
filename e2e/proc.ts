/** Process helpers of the booted-host harness: bounded commands, background children, bounded polling. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

/** A finished command: exit status (null when killed), signal, stdout and stderr. */
export interface Ran {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** Runs argv to completion, killed after timeoutMs; never throws. */
export function runSync(argv: readonly string[], timeoutMs = 30_000, cwd?: string): Ran {
  const started = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', cwd, maxBuffer: 256 * 1024 * 1024 });
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}`,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Runs argv and returns its stdout; throws with its output (and a timeout notice) unless it exits 0. */
export function runOrThrow(argv: readonly string[], timeoutMs = 30_000, cwd?: string): string {
  const r = runSync(argv, timeoutMs, cwd);
  if (r.status !== 0) {
    const why = r.signal ? `killed by ${r.signal}${r.seconds * 1000 >= timeoutMs ? ` after the ${timeoutMs / 1000} s limit` : ''}` : `exit status ${r.status}`;
    throw new Error(`${argv.join(' ')}: ${why}\n${tailLines(r.stdout + r.stderr, 30)}`);
  }
  return r.stdout;
}

/** Runs argv asynchronously (other hosts keep running meanwhile), bounded by timeoutMs; never throws. */
export function runAsync(argv: readonly string[], timeoutMs: number, onSpawn?: (child: ChildProcess) => void): Promise<Ran> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      stderr += String(e);
    });
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
    onSpawn?.(child);
  });
}

/** Kills a detached child's whole process group (never throws). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Starts argv in the background in its own process group, its output appended to logFile (env: added variables). */
export function startBackground(argv: readonly string[], logFile: string, env: Record<string, string> = {}): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    return spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', fd, fd], detached: true, env: { ...process.env, ...env } });
  } finally {
    closeSync(fd);
  }
}

/** Resolves after ms milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls ok() every stepMs until it is true; returns the seconds it took, or throws `timed out ... waiting for WHAT`
 * (with `: WHY` when why() tells what the last poll saw).
 */
export async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 200, why?: () => string): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await ok()) return (performance.now() - started) / 1000;
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${why ? `: ${why()}` : ''}`);
    await sleep(stepMs);
  }
}

/** The last n lines of a text. */
export function tailLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
