/**
 * kubectl as an operator runs it: this machine's kubectl (built from the same module as the cluster's) in a namespace on
 * the hosts' bridge, through the VIP and haproxy's port, with the admin credentials kubeadm made on the first control
 * plane and the server checked against the cluster CA from the secrets folder (not the CA data kubeadm embedded).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { load, dump } from 'js-yaml';
import type { Testbed } from '../booted.js';
import { runAsync, sleep, type Ran } from '../proc.js';

/** A kubeconfig for the admin of the cluster at `server`, trusting only `caFile`; written 0600 to `path`. */
export function adminKubeconfig(adminConf: string, server: string, caFile: string, path: string): string {
  const conf = load(readFileSync(adminConf, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
  for (const c of conf.clusters) {
    delete c.cluster['certificate-authority-data'];
    c.cluster['certificate-authority'] = caFile;
    c.cluster.server = server;
  }
  writeFileSync(path, dump(conf), { mode: 0o600 });
  return path;
}

/** kubectl bound to one namespace of this machine and one kubeconfig. */
export class Kubectl {
  constructor(
    private readonly bed: Testbed,
    readonly netns: string,
    readonly binary: string,
    readonly kubeconfig: string,
  ) {}

  /** Runs kubectl ARGS (bounded; a request timeout keeps one call from hanging on a dead endpoint). */
  run(args: readonly string[], timeoutMs = 60_000): Ran {
    return this.bed.inNamespace(this.netns, [this.binary, `--kubeconfig=${this.kubeconfig}`, '--request-timeout=20s', ...args], timeoutMs);
  }

  /** kubectl ARGS, its output; throws with kubectl's words unless it exits 0. */
  must(args: readonly string[], timeoutMs = 60_000): string {
    const r = this.run(args, timeoutMs);
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  }

  /** kubectl apply of a manifest given as text (server-side, so the API server checks every field). */
  apply(manifest: string, file: string): void {
    writeFileSync(file, manifest);
    this.must(['apply', '--server-side', '-f', file]);
  }
}

/** What a poller saw: polls, failed polls, and the longest time without an answer (from the last answer before a failure to the next). */
export interface PollReport {
  polls: number;
  failed: number;
  longestGapSeconds: number;
  lastError: string;
}

/**
 * Polls a check every `everyMs` in the background (each poll bounded) until stopped: an availability probe kept
 * running across a failover or an upgrade. `poll` resolves true when the thing answered.
 */
export class Poller {
  private readonly report: PollReport = { polls: 0, failed: 0, longestGapSeconds: 0, lastError: '' };
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly poll: () => Promise<{ ok: boolean; error: string }>,
    private readonly everyMs = 500,
  ) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    let lastOk = performance.now();
    while (!this.stopped) {
      const started = performance.now();
      const { ok, error } = await this.poll();
      this.report.polls++;
      const now = performance.now();
      if (ok) lastOk = now;
      else {
        this.report.failed++;
        this.report.lastError = error;
      }
      this.report.longestGapSeconds = Math.max(this.report.longestGapSeconds, ok ? 0 : (now - lastOk) / 1000);
      await sleep(Math.max(0, this.everyMs - (now - started)));
    }
  }

  /** Stops polling (after the poll in flight) and returns what it saw. */
  async stop(): Promise<PollReport> {
    this.stopped = true;
    await this.done;
    return { ...this.report };
  }
}

/** A poll of the API server's /readyz through the kubeconfig's server (the VIP), from the kubectl's namespace. */
export function apiReadyPoll(kubectl: Kubectl): () => Promise<{ ok: boolean; error: string }> {
  return async () => {
    const r = await runAsync(
      ['ip', 'netns', 'exec', kubectl.netns, kubectl.binary, `--kubeconfig=${kubectl.kubeconfig}`, '--request-timeout=2s', 'get', '--raw', '/readyz'],
      5000,
    );
    const out = (r.stdout + r.stderr).trim();
    return { ok: r.status === 0 && out === 'ok', error: out.split('\n').pop() ?? '' };
  };
}
