/**
 * A running etcd member is restarted on what is installed (a new binary after an etcd.version change, a new unit or
 * certificate), one member at a time: run.sh's services phase in the namespace sandbox (etcdctl and systemctl stubs)
 * decides when, and the generated etcd-restart.sh runs against a live three-member cluster of Debian's etcd, whose
 * restart (the systemctl stub asks the test) puts the member on another etcd program while writes go on.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readlinkSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ETCD_RESTART_PATH } from '../src/render/etcd.js';
import { backupCluster } from './etcd-backup-cluster.js';
import { etcdctl, killMembers, LoopbackNet, startMember, tail, waitUntil, type ClientCert, type MemberBundle, type RunningMember } from './etcd-live.js';
import { canMakeNamespaces, cleanup, generateAndUnpack, modelOf, NAMESPACES, tempDir, testNeeding } from './helpers.js';
import { changes, runInSandbox } from './sandbox.js';

const HEALTHY_MS = 30_000;

let gen: { dir: string; unpacked: string } | null = null;
let inventoryDir = '';
test.before(async () => {
  if (!canMakeNamespaces()) return;
  inventoryDir = tempDir();
  writeFileSync(join(inventoryDir, 'inventory.json'), JSON.stringify(backupCluster({ install: 'distro' })));
  gen = await generateAndUnpack(join(inventoryDir, 'inventory.json'));
});
test.after(() => {
  if (gen) cleanup(gen.dir);
  if (inventoryDir) cleanup(inventoryDir);
});

/**
 * The sandbox's etcd programs: /usr/bin/etcd is a file whose content stands for its version, /usr/bin/etcdctl a stub that
 * logs its endpoints and fails for those listed in STUB_ETCD_DOWN (both bound over the real ones in the sandbox only).
 */
const ETCD_PROGRAMS = (version: string) => [
  'mkdir -p /var/tmp/etcd-bin',
  `printf '%s\\n' 'etcd ${version}' >/var/tmp/etcd-bin/etcd`,
  `printf '%s\\n' '#!/bin/bash' 'for a; do [[ $a == --endpoints=* ]] && e=\${a#--endpoints=}; done' 'printf "etcdctl %s\\n" "$e" >>"$STUB_LOG"' '[[ " $STUB_ETCD_DOWN " != *" $e "* ]]' >/var/tmp/etcd-bin/etcdctl`,
  'chmod +x /var/tmp/etcd-bin/etcd /var/tmp/etcd-bin/etcdctl',
  'mount --bind /var/tmp/etcd-bin/etcd /usr/bin/etcd',
  'mount --bind /var/tmp/etcd-bin/etcdctl /usr/bin/etcdctl',
];

testNeeding(
  [NAMESPACES, 'etcd'],
  'services phase: a new etcd binary under a running member restarts it through etcd-restart.sh, once; others down: it waits, then stops',
  () => {
    if (!gen) throw new Error('the bundles were not generated (see test.before)');
    const upper = tempDir();
    const bundle = join(gen.unpacked, 'm1');
    const run = (version: string, env: Record<string, string> = {}) =>
      runInSandbox(bundle, '127.0.1.1', ['--only', 'files,services'], { upper, before: ETCD_PROGRAMS(version), env }, 60);
    const restarts = (calls: string[]) => changes(calls).filter((c) => /^etcdctl |etcd\.service$/.test(c) && !c.startsWith('systemctl daemon-reload'));
    try {
      const first = run('3.5.26');
      assert.is(first.code, 0, first.out + first.err);
      // Running but never started by kubeha (the OS package's own etcd): restarted at once, no cluster to keep in quorum yet.
      assert.equal(restarts(first.calls), ['systemctl restart --no-block etcd.service', 'etcdctl https://127.0.0.1:2379']);
      const again = run('3.5.26');
      assert.equal(
        restarts(again.calls).filter((c) => !c.startsWith('etcdctl https://127.0.0.1:2379')),
        [],
        'nothing changed: no restart',
      );
      // etcd.version changed: the packages phase put a new binary under the running process.
      // It is restarted by its script, once the other members answered.
      const newer = run('3.6.8');
      assert.is(newer.code, 0, newer.out + newer.err);
      assert.equal(restarts(newer.calls), [
        'etcdctl https://127.0.1.2:2379',
        'etcdctl https://127.0.1.3:2379',
        'systemctl restart etcd.service',
        'etcdctl https://127.0.0.1:2379',
        'etcdctl https://127.0.0.1:2379',
      ]);
      assert.match(newer.out, 'kubeha-etcd-restart: 2 other member(s) healthy: restarting m1');
      // With m3 down the cluster would lose its quorum while m1 restarts: the script waits (bounded), then stops the run.
      const blocked = run('3.6.9', { STUB_ETCD_DOWN: 'https://127.0.1.3:2379', KUBEHA_ETCD_WAIT: '4' });
      assert.is(blocked.code, 1);
      assert.match(
        blocked.err,
        'kubeha-etcd-restart: error: only 1 of the other members healthy (not: https://127.0.1.3:2379) after 4s, 2 needed: restarting m1 now would leave the cluster without its quorum',
      );
      assert.not.ok(blocked.calls.includes('systemctl restart etcd.service'));
      // Once m3 is back, the next run restarts m1.
      const later = run('3.6.9');
      assert.ok(restarts(later.calls).includes('systemctl restart etcd.service'), later.calls.join('\n'));
    } finally {
      cleanup(upper);
    }
  },
);

/** Runs a command in a member's namespace and a private mount namespace holding its bundle's /etc/etcd/pki; resolves with its result. */
function runInMember(member: RunningMember, argv: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  // /etc as an overlay whose changes land in a scratch folder, so /etc/etcd/pki can be made without touching this machine.
  const scratch = tempDir();
  const script = [
    'set -e',
    'mount --make-rprivate /',
    `mkdir -p '${scratch}/u' '${scratch}/w'`,
    `mount -t overlay overlay -o 'lowerdir=/etc,upperdir=${scratch}/u,workdir=${scratch}/w' /etc`,
    'mkdir -p /etc/etcd/pki',
    `mount --bind '${join(member.bundle, 'rootfs/etc/etcd/pki')}' /etc/etcd/pki`,
    'exec "$@"',
  ].join('\n');
  return new Promise((resolve) => {
    let out = '';
    const child = spawn('ip', ['netns', 'exec', member.ns, 'unshare', '-m', 'sh', '-c', script, 'sh', ...argv], { env: { ...process.env, ...env } });
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => {
      cleanup(scratch);
      resolve({ code, out });
    });
  });
}

testNeeding(
  ['etcd', 'etcdctl', 'setpriv', NAMESPACES],
  'LIVE: etcd-restart.sh restarts a member on a new etcd program while writes through another member go on',
  async () => {
    if (!gen) throw new Error('the bundles were not generated (see test.before)');
    const dir = tempDir();
    const running: RunningMember[] = [];
    let net: LoopbackNet | undefined;
    try {
      const model = modelOf(backupCluster({ install: 'distro' }));
      const cpPki = join(gen.unpacked, 'cp1', 'rootfs/etc/kubernetes/pki');
      const client: ClientCert = {
        ca: join(cpPki, 'etcd/ca.crt'),
        cert: join(cpPki, 'apiserver-etcd-client.crt'),
        key: join(cpPki, 'apiserver-etcd-client.key'),
      };
      const members: MemberBundle[] = model.etcd.members.map((m) => ({ name: m.name, address: m.address, bundle: join(gen!.unpacked, m.name) }));
      net = new LoopbackNet(`kr${process.pid % 100000}`);
      const clientNs = net.add('127.0.2.1');
      const endpoints = model.etcd.clientEndpoints;
      for (const m of members) running.push(startMember(net, m, join(dir, 'run')));
      assert.ok(
        (await waitUntil(() => etcdctl(clientNs, client, endpoints, ['endpoint', 'health']).status === 0, HEALTHY_MS)) !== null,
        running.map((m) => tail(m)).join('\n'),
      );

      // systemctl restart etcd.service asks the test to restart the member, and returns once it did (a notify unit).
      const stub = join(dir, 'stub');
      mkdirSync(stub);
      writeFileSync(
        join(stub, 'systemctl'),
        `#!/bin/sh\nprintf '%s\\n' "$*" >>'${dir}/systemctl.log'\n[ "$*" = 'restart etcd.service' ] || exit 0\ntouch '${dir}/restart'\nwhile [ ! -e '${dir}/restarted' ]; do sleep 0.1; done\n`,
      );
      chmodSync(join(stub, 'systemctl'), 0o755);
      const env = { PATH: `${stub}:${process.env.PATH}` };
      const script = join(running[0]!.bundle, 'rootfs', ETCD_RESTART_PATH);

      // m3 down: m1 is not restarted (the cluster of three would have one member left), the script says why.
      const m3 = running[2]!;
      await killMembers([m3]);
      const refused = await runInMember(running[0]!, [script], { ...env, KUBEHA_ETCD_WAIT: '4' });
      assert.is(refused.code, 1, refused.out);
      assert.match(refused.out, 'only 1 of the other members healthy (not: https://127.0.1.3:2379) after 4s, 2 needed');
      assert.not.ok(existsSync(join(dir, 'restart')), 'not restarted');
      running[2] = startMember(net, members[2]!, join(dir, 'run'), { ns: m3.ns });
      assert.ok((await waitUntil(() => etcdctl(clientNs, client, endpoints, ['endpoint', 'health']).status === 0, HEALTHY_MS)) !== null, tail(running[2]!));

      // A follower is restarted (a leader's restart fails the writes in flight during the election, as with any etcd
      // client: not what this shows), with a writer through another member every 200 ms.
      const status = JSON.parse(etcdctl(clientNs, client, endpoints, ['endpoint', 'status', '-w', 'json']).out) as {
        Endpoint: string;
        Status: { header: { member_id: number }; leader: number };
      }[];
      const isLeader = (ep: string) => status.some((st) => st.Endpoint === ep && st.Status.header.member_id === st.Status.leader);
      const f = endpoints.findIndex((ep) => !isLeader(ep));
      const w = endpoints.findIndex((_, i) => i !== f);
      const target = running[f]!;
      const writes = join(dir, 'writes');
      const writer = spawn('ip', [
        'netns',
        'exec',
        clientNs,
        'sh',
        '-c',
        `i=0; while :; do i=$((i+1)); etcdctl --endpoints=${endpoints[w]} --cacert='${client.ca}' --cert='${client.cert}' --key='${client.key}' --dial-timeout=2s --command-timeout=3s put /kubeha/restart/k$i v$i >/dev/null 2>&1; echo $? >>'${writes}'; sleep 0.2; done`,
      ]);
      // The new program: a copy of etcd in another file, as after an upgrade; the etcd user reaches it (traverse only).
      chmodSync(dir, 0o711);
      const next = join(dir, 'etcd-next');
      copyFileSync('/usr/bin/etcd', next);
      chmodSync(next, 0o755);
      const written = () => (existsSync(writes) ? readFileSync(writes, 'utf8').trim().split('\n').length : 0);
      assert.ok((await waitUntil(() => written() >= 5, 30_000)) !== null, 'the writer writes');
      const started = Date.now();
      const restarting = runInMember(target, [join(target.bundle, 'rootfs', ETCD_RESTART_PATH)], env);
      const asked = await waitUntil(() => existsSync(join(dir, 'restart')), 60_000);
      assert.ok(asked !== null, 'the script asked systemd to restart etcd');
      // Down for 3 s, as a stop and a start of a larger etcd take: the writes go on.
      await killMembers([target]);
      const down = written();
      await new Promise((r) => setTimeout(r, 3000));
      const whileDown = written() - down;
      running[f] = startMember(net, members[f]!, join(dir, 'run'), { ns: target.ns, binary: next });
      writeFileSync(join(dir, 'restarted'), '');
      const result = await restarting;
      const ms = Date.now() - started;
      const after = written();
      assert.ok((await waitUntil(() => written() >= after + 5, 30_000)) !== null, 'the writer writes after the restart');
      writer.kill();
      assert.ok(whileDown >= 3, `${whileDown} writes while ${target.name} was down`);
      assert.is(result.code, 0, `${result.out}\n${tail(running[f]!)}`);
      assert.match(result.out, `kubeha-etcd-restart: 2 other member(s) healthy: restarting ${target.name}`);
      assert.match(result.out, `kubeha-etcd-restart: ${target.name} is healthy again`);
      assert.is(readlinkSync(`/proc/${running[f]!.child.pid}/exe`), next, `${target.name} runs the new program`);
      const statuses = readFileSync(writes, 'utf8').trim().split('\n');
      const failed = statuses.filter((x) => x !== '0').length;
      console.log(
        `  etcd restart: ${target.name} (a follower) restarted on a new program and healthy in ${ms} ms (3 s of it down); ${statuses.length} writes through ${members[w]!.name} (${whileDown} while it was down), ${failed} failed`,
      );
      assert.is(failed, 0, 'the cluster kept its quorum');
      assert.is(etcdctl(clientNs, client, endpoints, ['endpoint', 'health']).status, 0);
    } finally {
      await killMembers(running);
      net?.destroy();
      cleanup(dir);
    }
  },
);

test.run();
