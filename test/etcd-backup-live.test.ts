/** etcd backups for real: the generated snapshot service and restore script against a live three-member cluster. */
import { chmodSync, chownSync, copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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

testNeeding(
  ['etcd', 'etcdctl', 'ss', 'setpriv', NAMESPACES],
  'LIVE: a snapshot by the generated service, every member destroyed, all restored by kubeha-etcd-restore, the keys read back',
  async () => {
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
      for (const m of members) running.push(startMember(net, m, join(dir, 'run')));
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

      // 3. Restore refuses while etcd runs: its ports listen in the member's namespace.
      const refusalsStart = Date.now();
      const systemctl = stubSystemctl(join(dir, 'stub'));
      const dataDir = model.etcd.dataDir;
      const dataOf = (m: MemberBundle) => join(dir, 'run', m.name, basename(dataDir));
      const restoreMounts = (m: MemberBundle): Mount[] => [{ source: dirname(dataOf(m)), target: dirname(dataDir) }];
      const restoreIn = (m: RunningMember, file: string) =>
        runWithMounts(m.ns, restoreMounts(m), join(dir, `mnt-restore-${m.name}-${Date.now()}`), [join(m.bundle, 'rootfs', ETCD_RESTORE_PATH), file], {
          path: systemctl.path,
        });
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
      for (const m of members) writeFileSync(join(dataOf(m), 'member/snap/db'), 'destroyed');
      const restoreStart = Date.now();
      // Stopped is any of: inactive, failed (it crashed, or its snapshot was taken from a broken member), or no state
      // at all (systemctl does not know the unit): each member restores under one of them.
      for (const [i, m] of running.entries()) {
        systemctl.setState(['failed', '', 'inactive'][i] ?? 'inactive');
        const r = restoreIn(m, snapshot);
        assert.is(r.status, 0, `${m.name}: ${r.stdout}${r.stderr}`);
        assert.match(r.stdout, `member ${m.name} restored in ${dataDir}`);
        const aside = /the old data is kept in (\S+)\/member/.exec(r.stdout)?.[1];
        assert.ok(aside?.startsWith(`${dataDir}.before-restore-`), r.stdout);
        assert.is(readFileSync(join(dirname(dataOf(m)), basename(aside!), 'member/snap/db'), 'utf8'), 'destroyed', 'the old data is kept aside');
        assert.equal(
          readdirSync(dirname(dataOf(m))).filter((f) => f.includes('.restore-')),
          [],
          'the new data dir was moved in place',
        );
        assert.is(statSync(join(dataOf(m), 'member')).uid, etcdUid, 'the restored data belongs to etcd');
      }
      assert.is(systemctl.calls().match(/^start --no-block etcd\.service$/gm)?.length, 3, systemctl.calls());
      const restoreMs = Date.now() - restoreStart;

      // 5. The members start from their units again and serve the snapshot's keys, not the later write.
      for (const [i, m] of running.entries()) {
        net.remove(m.ns);
        running[i] = startMember(net, members[i]!, join(dir, 'run'));
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
  },
);

test.run();
