/** etcd backups for real: the generated snapshot service and restore script against a live three-member cluster. */
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ETCD_BACKUP_UNIT_PATHS, ETCD_RESTORE_PATH, snapshotPrefix } from '../src/render/etcd-backup.js';
import { backupCluster } from './etcd-backup-cluster.js';
import {
  etcdctl,
  execStartOf,
  killMembers,
  LoopbackNet,
  runWithMounts,
  startMember,
  tail,
  waitUntil,
  type ClientCert,
  type MemberBundle,
  type Mount,
  type RunningMember,
} from './etcd-live.js';
import { cleanup, generateAndUnpack, modelOf, tempDir, NAMESPACES, testNeeding } from './helpers.js';

const KEYS = 6;
const HEALTHY_MS = 30_000;
const OLD_STAMPS = ['20200101T000000Z', '20200102T000000Z', '20200103T000000Z', '20200104T000000Z'];

/** A systemctl on PATH that records its calls and answers is-active with the unit state in a file, as systemctl does. */
function stubSystemctl(dir: string): { path: string; calls: () => string; setState: (state: string) => void } {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const state = join(dir, 'state');
  const log = join(dir, 'calls');
  writeFileSync(state, 'inactive');
  writeFileSync(log, '');
  writeFileSync(
    join(bin, 'systemctl'),
    `#!/bin/sh\nprintf '%s\\n' "$*" >>'${log}'\nif [ "$1" = is-active ]; then cat '${state}'; [ "$(cat '${state}')" = active ]; exit $?; fi\nexit 0\n`,
  );
  chmodSync(join(bin, 'systemctl'), 0o755);
  return { path: bin, calls: () => readFileSync(log, 'utf8'), setState: (value) => writeFileSync(state, value) };
}

/** Writes an old snapshot file and its checksum file into a snapshot folder. */
function oldSnapshot(folder: string, name: string): void {
  writeFileSync(join(folder, name), `old ${name}`);
  const sum = spawnSync('sha256sum', [join(folder, name)], { encoding: 'utf8' }).stdout.split(' ')[0];
  writeFileSync(join(folder, `${name}.sha256`), `${sum}  ${name}\n`);
}

/** The etcd a live run uses: Debian's 3.4 (etcdctl restores, no revision bump), or the e2e site's 3.6.8 build (etcdutl). */
interface Flavor {
  label: string;
  /** The folder of etcd, etcdctl and etcdutl to run instead of Debian's (null: Debian's own). */
  bin: string | null;
  /** Whether the restore tool bumps the revision. */
  bumps: boolean;
}

/** The e2e site's etcd 3.6.8 build (e2e/cluster/components.ts), when it was built on this machine. */
function builtEtcd(): string {
  const programs = join(process.env.KUBEHA_E2E_CACHE ?? '/var/cache/kubeha-e2e', 'site', 'programs');
  const found = existsSync(programs)
    ? readdirSync(programs).find((d) => d.startsWith('etcd-v3.6.8-') && existsSync(join(programs, d, '.complete')))
    : undefined;
  return found ? join(programs, found) : join(programs, 'etcd-v3.6.8-KEY (node dist/e2e/cluster/warm.js etcd builds it)');
}
const SITE_ETCD = builtEtcd();

/** The cluster ID and revision of the cluster, as a member reports them (the ID read as digits: it exceeds a double). */
function clusterState(ctl: (args: string[]) => { status: number; out: string }): { cluster: string; revision: number } {
  const out = ctl(['endpoint', 'status', '-w', 'json']).out;
  const cluster = /"cluster_id":(\d+)/.exec(out)?.[1];
  const revision = /"revision":(\d+)/.exec(out)?.[1];
  if (!cluster || !revision) throw new Error(`no cluster_id or revision in: ${out}`);
  return { cluster, revision: Number(revision) };
}

testNeeding(
  ['etcd', 'etcdctl', 'ss', 'setpriv', NAMESPACES],
  "LIVE (Debian's etcd 3.4): a snapshot by the generated service, every member destroyed, all restored by kubeha-etcd-restore as a new cluster, the keys read back",
  () => restoreScenario({ label: "Debian's etcd 3.4", bin: null, bumps: false }),
);

testNeeding(
  ['etcdctl', 'ss', 'setpriv', NAMESPACES, join(SITE_ETCD, 'etcdutl')],
  'LIVE (etcd 3.6.8): the same restore with etcdutl: the revision bumped and marked compacted, a new cluster ID',
  () => restoreScenario({ label: 'etcd 3.6.8', bin: SITE_ETCD, bumps: true }),
);

/** Long because it is one story against one live cluster: snapshot, retention, refusals, restore of every member, the new cluster read back. */
async function restoreScenario(flavor: Flavor): Promise<void> {
  const dir = tempDir();
  const running: RunningMember[] = [];
  let net: LoopbackNet | undefined;
  let genDir: string | undefined;
  try {
    // The data dir's folder is the member's scratch folder in the restore's namespace: renames stay renames, as on a host.
    const doc = backupCluster({ install: 'distro', dataDir: '/var/lib/etcd-live/data', backup: { keep: 3 } });
    const model = modelOf(doc);
    writeFileSync(join(dir, 'inventory.json'), JSON.stringify(doc));
    const gen = await generateAndUnpack(join(dir, 'inventory.json'));
    const tokens = JSON.parse(readFileSync(join(gen.secrets, 'tokens.json'), 'utf8')) as { etcdClusterToken: string };
    genDir = gen.dir;
    const cpPki = join(gen.unpacked, 'cp1', 'rootfs/etc/kubernetes/pki');
    const client: ClientCert = {
      ca: join(cpPki, 'etcd/ca.crt'),
      cert: join(cpPki, 'apiserver-etcd-client.crt'),
      key: join(cpPki, 'apiserver-etcd-client.key'),
    };
    const members: MemberBundle[] = model.etcd.members.map((m) => ({ name: m.name, address: m.address, bundle: join(gen.unpacked, m.name) }));
    net = new LoopbackNet(`kb${process.pid % 100000}`);
    const clientNs = net.add('127.0.2.1');
    const endpoints = model.etcd.clientEndpoints;
    const ctl = (args: string[], at = endpoints) => etcdctl(clientNs, client, at, args);
    const binary = flavor.bin ? join(flavor.bin, 'etcd') : undefined;
    for (const m of members) running.push(startMember(net, m, join(dir, 'run'), { binary }));
    const firstHealthy = await waitUntil(() => ctl(['endpoint', 'health']).status === 0, HEALTHY_MS);
    assert.ok(firstHealthy !== null, running.map((m) => tail(m)).join('\n'));
    const putStart = Date.now();
    for (let i = 0; i < KEYS; i++) assert.is(ctl(['put', `/kubeha/backup/k${i}`, `v${i}`], [endpoints[i % 3]!]).status, 0);

    const putMs = Date.now() - putStart;
    // 1. The snapshot: m1's etcd-backup.service command, as its User, with the member's certificates and snapshot folder.
    const m1 = running[0]!;
    const service = readFileSync(join(m1.bundle, 'rootfs', ETCD_BACKUP_UNIT_PATHS.service), 'utf8');
    const { argv, user } = execStartOf(service);
    const folder = join(dir, 'snapshots');
    mkdirSync(folder, { mode: 0o700 });
    const etcdUid = Number(spawnSync('id', ['-u', user!], { encoding: 'utf8' }).stdout);
    const etcdGid = Number(spawnSync('id', ['-g', user!], { encoding: 'utf8' }).stdout);
    for (const stamp of OLD_STAMPS) oldSnapshot(folder, `${snapshotPrefix('m1')}${stamp}.db`);
    oldSnapshot(folder, `${snapshotPrefix('m2')}${OLD_STAMPS[0]}.db`);
    for (const f of readdirSync(folder)) chownSync(join(folder, f), etcdUid, etcdGid);
    chownSync(folder, etcdUid, etcdGid);
    const backupMounts: Mount[] = [
      { source: join(m1.bundle, 'rootfs/etc/etcd/pki'), target: '/etc/etcd/pki' },
      { source: join(m1.bundle, 'rootfs', dirname(argv[0]!)), target: dirname(argv[0]!) },
      { source: folder, target: model.etcd.backup.dir },
    ];
    const started = Date.now();
    const saved = runWithMounts(m1.ns, backupMounts, join(dir, 'mnt-backup'), argv, { user: user! });
    assert.is(saved.status, 0, `${saved.stdout}${saved.stderr}`);
    const line = /saved \/var\/backups\/etcd\/(etcd-m1-\d{8}T\d{6}Z\.db) \((\d+) bytes, sha256 ([0-9a-f]{64})\)/.exec(saved.stdout);
    assert.ok(line, saved.stdout);
    const [, name, bytes, sum] = line!;
    console.log(`  etcd backup: ${name} (${bytes} bytes) in ${Date.now() - started} ms`);
    // 2. Retention: m1's newest 3 (the new one and two old ones) with their checksums; m2's snapshot untouched; no temporary file.
    assert.equal(
      readdirSync(folder).sort(),
      [
        `${snapshotPrefix('m1')}${OLD_STAMPS[2]}.db`,
        `${snapshotPrefix('m1')}${OLD_STAMPS[2]}.db.sha256`,
        `${snapshotPrefix('m1')}${OLD_STAMPS[3]}.db`,
        `${snapshotPrefix('m1')}${OLD_STAMPS[3]}.db.sha256`,
        name!,
        `${name}.sha256`,
        `${snapshotPrefix('m2')}${OLD_STAMPS[0]}.db`,
        `${snapshotPrefix('m2')}${OLD_STAMPS[0]}.db.sha256`,
      ].sort(),
    );
    assert.is(saved.stdout.match(/^removed /gm)?.length, 2, saved.stdout);
    const snapshot = join(folder, name!);
    assert.is(statSync(snapshot).mode & 0o777, 0o600, 'a snapshot holds every secret of the cluster');
    assert.is(statSync(snapshot).uid, etcdUid);
    assert.is(String(statSync(snapshot).size), bytes);
    const check = spawnSync('sha256sum', ['--strict', '--check', `${name}.sha256`], { cwd: folder, encoding: 'utf8' });
    assert.is(check.status, 0, check.stdout + check.stderr);
    assert.ok(readFileSync(`${snapshot}.sha256`, 'utf8').startsWith(sum!));
    assert.is(ctl(['put', '/kubeha/after', 'not in the snapshot']).status, 0);
    const lastState = clusterState(ctl);

    // 3. Restore refuses while etcd runs: its ports listen in the member's namespace.
    const refusalsStart = Date.now();
    const systemctl = stubSystemctl(join(dir, 'stub'));
    const dataDir = model.etcd.dataDir;
    const dataOf = (m: MemberBundle) => join(dir, 'run', m.name, basename(dataDir));
    const restoreMounts = (m: MemberBundle): Mount[] => [{ source: dirname(dataOf(m)), target: dirname(dataDir) }];
    // With the flavor's etcdutl as /usr/bin/etcdutl (on an overlay of /usr/bin in the restore's namespace), which the
    // restore script takes before etcdctl.
    const restoreIn = (m: RunningMember, file: string) => {
      const script = join(m.bundle, 'rootfs', ETCD_RESTORE_PATH);
      const argv = flavor.bin ? ['sh', '-c', `cp '${join(flavor.bin, 'etcdutl')}' /usr/bin/etcdutl && exec "$0" "$1"`, script, file] : [script, file];
      const mounts = flavor.bin ? [...restoreMounts(m), { source: null, target: '/usr/bin' }] : restoreMounts(m);
      return runWithMounts(m.ns, mounts, join(dir, `mnt-restore-${m.name}-${Date.now()}`), argv, { path: systemctl.path });
    };
    const busy = restoreIn(m1, snapshot);
    assert.is(busy.status, 1, busy.stdout);
    assert.match(busy.stderr, `a process listens on the etcd ports ${model.etcd.clientPort} and ${model.etcd.peerPort}`);
    await killMembers(running);
    // ... and while systemd reports etcd.service active, or activating (a unit in its restart loop).
    for (const state of ['active', 'activating', 'deactivating', 'reloading']) {
      systemctl.setState(state);
      const refusal = restoreIn(m1, snapshot);
      assert.is(refusal.status, 1, state);
      assert.match(refusal.stderr, `etcd.service is ${state}: stop it on every member first`);
    }
    systemctl.setState('inactive');
    // A snapshot that does not match its checksum is refused.
    const bad = join(dir, 'damaged.db');
    const damaged = readFileSync(snapshot);
    const middle = damaged.length >> 1;
    damaged.writeUInt8(damaged.readUInt8(middle) ^ 0xff, middle);
    writeFileSync(bad, damaged);
    copyFileSync(`${snapshot}.sha256`, `${bad}.sha256`);
    const refused = restoreIn(m1, bad);
    assert.is(refused.status, 1);
    assert.match(refused.stderr, `${bad} does not match its SHA-256`);
    assert.not.match(systemctl.calls(), 'start', 'nothing started by the refusals');

    const refusalsMs = Date.now() - refusalsStart;
    // 4. Every member's data destroyed, then each restored from the same snapshot by its own script.
    const before = lastState;
    for (const m of members) writeFileSync(join(dataOf(m), 'member/snap/db'), 'destroyed');
    const restoreStart = Date.now();
    // Stopped is any of: inactive, failed (it crashed, or its snapshot was taken from a broken member), or no state
    // at all (systemctl does not know the unit): each member restores under one of them.
    for (const [i, m] of running.entries()) {
      systemctl.setState(['failed', '', 'inactive'][i] ?? 'inactive');
      const r = restoreIn(m, snapshot);
      assert.is(r.status, 0, `${m.name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, `member ${m.name} restored in ${dataDir}`);
      assert.match(r.stdout, new RegExp(`cluster token ${tokens.etcdClusterToken}-restore-${sum!.slice(0, 16)}[,)]`));
      assert.is(r.stdout.includes('revision bumped by 1000000000 and marked compacted'), flavor.bumps, r.stdout);
      assert.is(r.stdout.includes('cannot bump the revision (etcd 3.5.10 and later can)'), !flavor.bumps, r.stdout);
      // Aside inside the data dir: a rename on its own file system.
      const aside = /the old data is kept in (\S+)\/member/.exec(r.stdout)?.[1];
      assert.ok(aside?.startsWith(`${dataDir}/kubeha-before-restore-`), r.stdout);
      assert.is(readFileSync(join(dataOf(m), basename(aside!), 'member/snap/db'), 'utf8'), 'destroyed', 'the old data is kept aside');
      assert.equal(
        readdirSync(dataOf(m)).filter((f) => f.startsWith('kubeha-restore-')),
        [],
        'the restored data was moved in place',
      );
      assert.is(statSync(join(dataOf(m), 'member')).uid, etcdUid, 'the restored data belongs to etcd');
    }
    assert.is(systemctl.calls().match(/^start --no-block etcd\.service$/gm)?.length, 3, systemctl.calls());
    const restoreMs = Date.now() - restoreStart;

    // 5. The members start from their units again and serve the snapshot's keys, not the later write.
    for (const [i, m] of running.entries()) {
      net.remove(m.ns);
      running[i] = startMember(net, members[i]!, join(dir, 'run'), { binary });
    }
    const againHealthy = await waitUntil(() => ctl(['endpoint', 'health']).status === 0, HEALTHY_MS);
    assert.ok(againHealthy !== null, running.map((m) => tail(m)).join('\n'));
    console.log(
      `  etcd restore: healthy ${firstHealthy} ms after start, ${KEYS} puts ${putMs} ms, refusals ${refusalsMs} ms, 3 restores ${restoreMs} ms, healthy again ${againHealthy} ms after restart`,
    );
    for (const [i, ep] of endpoints.entries()) {
      const keys = ctl(['get', '--prefix', '--keys-only', '/kubeha/backup/'], [ep]).out.split('\n').filter(Boolean);
      assert.is(keys.length, KEYS, `${ep}: ${keys.join(' ')}`);
      assert.is(ctl(['get', '--print-value-only', `/kubeha/backup/k${i + 3}`], [ep]).out.trim(), `v${i + 3}`);
    }
    assert.is(ctl(['get', '/kubeha/after']).out.trim(), '', 'the write after the snapshot is gone');
    // A new logical cluster (its own ID); with the bump, every revision of the old cluster is behind it and compacted,
    // so a watch resumed from one is refused (the API servers' caches and controllers then list again).
    const after = clusterState(ctl);
    assert.is.not(after.cluster, before.cluster, 'a new cluster ID');
    const oldRevision = ctl(['get', '/kubeha/backup/k0', `--rev=${before.revision}`]);
    if (flavor.bumps) {
      assert.ok(after.revision > before.revision + 1_000_000_000 - KEYS - 10, `revision ${before.revision} -> ${after.revision}`);
      assert.is(oldRevision.status === 0, false);
      assert.match(oldRevision.out, 'required revision has been compacted');
    } else {
      assert.ok(after.revision < before.revision, `revision ${before.revision} -> ${after.revision}: not bumped`);
      assert.match(oldRevision.out, 'required revision is a future revision');
    }
    console.log(`  etcd restore (${flavor.label}): cluster ID ${before.cluster} -> ${after.cluster}, revision ${before.revision} -> ${after.revision}`);
    const list = ctl(['member', 'list']).out.trim().split('\n');
    for (const m of model.etcd.members)
      assert.ok(
        list.some((l) => l.includes(`, started, ${m.name}, ${m.peerURL}, ${m.clientURL}`)),
        list.join('\n'),
      );
  } finally {
    await killMembers(running);
    net?.destroy();
    if (genDir) cleanup(genDir);
    cleanup(dir);
  }
}

test.run();
