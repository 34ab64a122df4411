/**
 * On the booted hosts: every member's etcd-defrag.service started at the same moment, as their timers would start them;
 * each defragments its member under the lock in etcd, so that no two members are defragmented at the same time (the
 * members' own logs say when each defragmentation started and finished).
 */
import type { Testbed } from './booted.js';
import type { PlanHost } from './bundles.js';
import { checkEtcd } from './checks.js';

/** When etcd says its last defragmentation started and finished (its zap log, JSON lines in the journal), in ms. */
async function defragSpan(bed: Testbed, host: string): Promise<{ host: string; start: number; end: number }> {
  const log = (await bed.exec(host, ['journalctl', '-u', 'etcd.service', '-o', 'cat', '--no-pager'], 30_000)).stdout.split('\n');
  const at = (msg: string) => {
    const line = log.filter((l) => l.includes(`"msg":"${msg}"`)).at(-1);
    const ts = line ? (JSON.parse(line) as { ts?: string }).ts : undefined;
    if (!ts) throw new Error(`${host}: etcd logged no "${msg}"`);
    return Date.parse(ts);
  };
  return { host, start: at('starting defragment'), end: at('finished defragment') };
}

/** Starts every member's defragmentation at once; each must succeed and say so, and their defragmentations not overlap. */
export async function checkEtcdDefrag(bed: Testbed, members: PlanHost[], fromHost: string, say: (line: string) => void): Promise<void> {
  const started = performance.now();
  const runs = await Promise.all(members.map((m) => bed.exec(m.name, ['systemctl', 'start', 'etcd-defrag.service'], 300_000)));
  const seconds = (performance.now() - started) / 1000;
  const said: string[] = [];
  for (const [i, r] of runs.entries()) {
    const host = members[i]!.name;
    if (r.status !== 0) throw new Error(`${host}: systemctl start etcd-defrag.service: ${r.stderr}`);
    // The script's own last line (systemd's "Finished ..." comes after it).
    const journal = (await bed.exec(host, ['journalctl', '-u', 'etcd-defrag.service', '-o', 'cat', '--no-pager'], 10_000)).stdout;
    const last =
      journal
        .split('\n')
        .filter((l) => l.startsWith('defragmented '))
        .at(-1) ?? '';
    if (!/^defragmented \S+: database \d+ -> \d+ bytes$/.test(last)) throw new Error(`${host}: etcd-defrag.service said:\n${journal.slice(-1500)}`);
    said.push(last.replace(/^defragmented /, ''));
  }
  // The hosts' journals share this machine's clock: the members' defragmentations follow one another.
  const spans = (await Promise.all(members.map((m) => defragSpan(bed, m.name)))).sort((a, b) => a.start - b.start);
  for (let i = 1; i < spans.length; i++)
    if (spans[i]!.start < spans[i - 1]!.end) throw new Error(`${spans[i]!.host} was defragmented while ${spans[i - 1]!.host} was: ${JSON.stringify(spans)}`);
  await checkEtcd(
    bed,
    fromHost,
    members.map((h) => `https://${h.address}:2379`),
    60_000,
  );
  say(
    `CHECK etcd defragmentation: every member's etcd-defrag.service started at once; one member at a time (${spans.map((s) => s.host).join(', ')}, no overlap in etcd's logs), each said ${said.join('; ')}, ${seconds.toFixed(1)} s in all; every member healthy`,
  );
}
