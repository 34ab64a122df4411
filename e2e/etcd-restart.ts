/**
 * On the booted hosts: a new etcd program under a running member (what a changed etcd.version leaves after the packages
 * phase) makes its run.sh restart that member through its restart script, and only while the other members keep the
 * quorum without it; the other members are not touched.
 */
import type { Testbed } from './booted.js';
import { failureOf, reportOf, type PlanHost, type RunReport } from './bundles.js';
import { checkEtcd, unitState } from './checks.js';

/** The distro etcd of the e2e inventories. */
const ETCD = '/usr/bin/etcd';

/** Puts another etcd program in place of the installed one (the same program and one more byte: another file, another digest). */
async function newProgram(bed: Testbed, host: string): Promise<void> {
  const r = await bed.exec(host, ['sh', '-c', `cp ${ETCD} ${ETCD}.next && printf '\\0' >>${ETCD}.next && mv -f ${ETCD}.next ${ETCD}`], 30_000);
  if (r.status !== 0) throw new Error(`${host}: could not replace ${ETCD}: ${r.stderr}`);
}

/** run.sh of a member with KUBEHA_ETCD_WAIT (seconds the restart script waits for the other members). */
async function runMember(bed: Testbed, host: string, waitSeconds: number): Promise<RunReport> {
  const ran = await bed.exec(host, ['env', `KUBEHA_ETCD_WAIT=${waitSeconds}`, `/root/${host}/run.sh`], 300_000);
  return reportOf(host, [], ran);
}

/** etcd's MainPID and whether that process runs the etcd file installed now (same inode). */
async function running(bed: Testbed, host: string): Promise<{ pid: string; current: boolean }> {
  const pid = (await bed.exec(host, ['systemctl', 'show', 'etcd', '-p', 'MainPID', '--value'], 10_000)).stdout.trim();
  const inodes = (await bed.exec(host, ['stat', '-L', '-c', '%i', `/proc/${pid}/exe`, ETCD], 10_000)).stdout.trim().split('\n');
  return { pid, current: inodes.length === 2 && inodes[0] === inodes[1] };
}

/**
 * First with one other member stopped: the run stops before restarting (the quorum), the member keeps running its old
 * program; then with every member up: restarted on the new program, healthy, the others untouched.
 */
export async function checkEtcdRestart(bed: Testbed, members: PlanHost[], fromHost: string, say: (line: string) => void): Promise<void> {
  if (members.length < 3) return say('etcd restart: skipped (fewer than 3 members)');
  const [target, other, stopped] = [members[0]!.name, members[1]!.name, members[2]!.name];
  await newProgram(bed, target);
  const before = await running(bed, target);
  if (before.current) throw new Error(`${target}: etcd already runs the replaced ${ETCD}`);
  const stop = await bed.exec(stopped, ['systemctl', 'stop', 'etcd'], 60_000);
  if (stop.status !== 0) throw new Error(`${stopped}: systemctl stop etcd: ${stop.stderr}`);
  const refused = await runMember(bed, target, 6);
  if (refused.status !== 1 || !/only 1 of the other members healthy \(not: https:\/\/[0-9.]+:2379\) after 6s, 2 needed/.test(refused.output))
    throw new Error(`${target}: with ${stopped} stopped, run.sh should refuse to restart etcd:\n${failureOf(refused)}`);
  if ((await running(bed, target)).pid !== before.pid) throw new Error(`${target}: etcd was restarted although ${stopped} was down`);
  say(`CHECK etcd restart refused on ${target} while ${stopped} is stopped: run.sh exited 1 naming it, etcd kept running (MainPID ${before.pid})`);
  const start = await bed.exec(stopped, ['systemctl', 'start', 'etcd'], 120_000);
  if (start.status !== 0) throw new Error(`${stopped}: systemctl start etcd: ${start.stderr}`);
  await checkEtcd(
    bed,
    fromHost,
    members.map((h) => `https://${h.address}:2379`),
    60_000,
  );
  const untouched = await unitState(bed, other, 'etcd');
  const report = await runMember(bed, target, 120);
  if (report.status !== 0) throw new Error(failureOf(report));
  if (!report.output.includes(`kubeha-etcd-restart: 2 other member(s) healthy: restarting ${target}`) || !report.output.includes(`${target} is healthy again`))
    throw new Error(`${target}: run.sh did not restart etcd through its restart script:\n${report.output.slice(-2000)}`);
  const after = await running(bed, target);
  if (!after.current || after.pid === before.pid) throw new Error(`${target}: etcd (MainPID ${after.pid}) does not run the new ${ETCD}`);
  if ((await unitState(bed, other, 'etcd')) !== untouched) throw new Error(`${other}: its etcd was restarted too`);
  const seconds = await checkEtcd(
    bed,
    fromHost,
    members.map((h) => `https://${h.address}:2379`),
    60_000,
  );
  say(
    `CHECK etcd restart on a new program: ${target}'s run.sh restarted it through its restart script in ${report.seconds.toFixed(1)} s (MainPID ${before.pid} -> ${after.pid}, running the new ${ETCD}); ${other} untouched; every member healthy (+${seconds.toFixed(1)} s)`,
  );
}
