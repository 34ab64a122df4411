/** The operator's side of the e2e run: generate the bundles, read the plan, copy a bundle in and run its run.sh. */
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { killGroup } from './proc.js';
import { main } from '../src/cli/main.js';
import type { Testbed } from './booted.js';
import type { Ran } from './proc.js';

/** One host of the plan. */
export interface PlanHost {
  name: string;
  address: string;
  roles: string[];
  step: number;
}

/** The plan as `gen plan --json` prints it. */
export interface Plan {
  controlPlaneEndpoint: string;
  hosts: PlanHost[];
  order: { title: string; hosts: string[] }[];
}

/** Runs the real CLI in-process; throws with its error output unless it exits 0. */
async function gen(args: string[]): Promise<string> {
  let out = '';
  let err = '';
  const code = await main(args, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  if (code !== 0) throw new Error(`gen ${args.join(' ')} failed (${code}):\n${err}${out}`);
  return out;
}

/** `gen plan INVENTORY --json`. */
export async function planOf(inventory: string): Promise<Plan> {
  return JSON.parse(await gen(['plan', inventory, '--json'])) as Plan;
}

/** `gen INVENTORY --out OUT --secrets SECRETS`: one tarball per host. */
export async function generate(inventory: string, out: string, secrets: string): Promise<void> {
  await gen([inventory, '--out', out, '--secrets', secrets, '--quiet']);
}

/** Copies a host's tarball into it and unpacks it in /root, as an operator would after scp. */
export async function unpackBundle(bed: Testbed, host: string, out: string): Promise<void> {
  bed.copyIn(host, join(out, `${host}.tar.gz`), `/root/${host}.tar.gz`, 0o600);
  const r = await bed.exec(host, ['tar', '-xzf', `/root/${host}.tar.gz`, '-C', '/root'], 60_000);
  if (r.status !== 0) throw new Error(`${host}: tar -xzf failed: ${r.stderr}`);
}

/** What one run.sh did, read from its own log lines. */
export interface RunReport {
  host: string;
  args: string[];
  status: number | null;
  signal: NodeJS.Signals | null;
  seconds: number;
  phases: string[];
  installed: string[];
  /** Every command it ran through `run` (its `+ ...` lines): what it changed. */
  actions: string[];
  /** systemctl actions that start, restart or reload a unit. */
  services: string[];
  output: string;
}

/** Parses run.sh's output (`[kubeha HOST] phase X`, `installed PATH (MODE)`, `+ COMMAND`). */
export function reportOf(host: string, args: string[], ran: Ran): RunReport {
  const output = ran.stdout + ran.stderr;
  const lines = output.split('\n').map((l) => l.replace(/^\[kubeha [^\]]+\] /, ''));
  const actions = lines.filter((l) => l.startsWith('+ ')).map((l) => l.slice(2));
  return {
    host,
    args,
    status: ran.status,
    signal: ran.signal,
    seconds: ran.seconds,
    output,
    phases: lines.filter((l) => l.startsWith('phase ')).map((l) => l.slice(6)),
    installed: lines.filter((l) => l.startsWith('installed ')).map((l) => l.slice(10).replace(/ \(\d+\)$/, '')),
    actions,
    services: actions.filter((a) => /^systemctl (enable --now|start|restart|reload|try-restart|reload-or-restart)\b/.test(a)),
  };
}

/** Runs /root/HOST/run.sh ARGS inside the host (bounded); onSpawn gets the process (to interrupt it). */
export async function runBundle(bed: Testbed, host: string, args: string[], timeoutMs = 600_000, onSpawn?: (child: ChildProcess) => void): Promise<RunReport> {
  const ran = await bed.exec(host, [`/root/${host}/run.sh`, ...args], timeoutMs, onSpawn);
  return reportOf(host, args, ran);
}

/** The report as a failure message: status and the end of the output. */
export function failureOf(r: RunReport): string {
  const how = r.signal ? `was killed by ${r.signal}` : `exited ${r.status}`;
  return `${r.host}: run.sh ${r.args.join(' ')} ${how} after ${r.seconds.toFixed(1)} s:\n${r.output.trimEnd().split('\n').slice(-25).join('\n')}`;
}

/**
 * Starts run.sh ARGS in a host and SIGKILLs its process group `delayMs` after `after` shows in its output, as an
 * operator's dropped session or a power cut would; returns its report (throws when it ended before it was killed).
 */
export async function runBundleKilled(bed: Testbed, host: string, args: string[], after: RegExp, delayMs: number, timeoutMs = 600_000): Promise<RunReport> {
  let armed = true;
  const report = await runBundle(bed, host, args, timeoutMs, (child) => {
    let seen = '';
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString('utf8');
      if (armed && after.test(seen)) {
        armed = false;
        setTimeout(() => killGroup(child, 'SIGKILL'), delayMs);
      }
    });
  });
  if (report.signal !== 'SIGKILL')
    throw new Error(`${host}: meant to kill run.sh after ${after}, but it ended first (${report.status}):\n${report.output.slice(-2000)}`);
  return report;
}
