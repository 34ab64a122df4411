/**
 * kubectl as an operator runs it: this machine's kubectl (built from the same module as the cluster's) in a namespace on
 * the hosts' bridge, through the VIP and haproxy's port, with the admin credentials kubeadm made on the first control
 * plane and the server checked against the cluster CA from the secrets folder (not the CA data kubeadm embedded).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { load, dump } from 'js-yaml';
import type { Testbed } from '../booted.js';
import type { Ran } from '../proc.js';

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
