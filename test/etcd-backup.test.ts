/** etcd backups: the timer, service, snapshot script and restore script of every member, checked by real tools. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCertificate } from '../src/pki/inspect.js';
import { ETCD_BACKUP_SCRIPT_PATH, ETCD_BACKUP_UNIT_PATHS, ETCD_RESTORE_PATH, restoreTools, snapshotPrefix } from '../src/render/etcd-backup.js';
import { execStartOf } from './etcd-live.js';
import { ETCD_RESTART_PATH } from '../src/render/etcd.js';
import { ETCD_DEFRAG_SCRIPT_PATH, ETCD_DEFRAG_UNIT_PATHS } from '../src/render/etcd-defrag.js';
import { validateInventory } from '../src/inventory/index.js';
import { backupCluster } from './etcd-backup-cluster.js';
import { cleanup, compileDoc, generateAndUnpack, modelOf, NAMESPACES, REPO, tempDir, text, testNeeding } from './helpers.js';
import { verifyUnits } from './systemd.js';

const rootfs = (path: string) => `rootfs${path}`;
const FILES = [ETCD_BACKUP_UNIT_PATHS.service, ETCD_BACKUP_UNIT_PATHS.timer, ETCD_BACKUP_SCRIPT_PATH, ETCD_RESTORE_PATH];

test('every etcd member, and no other host, gets the backup units, the snapshot script and the restore script', async () => {
  const { model, secrets, hosts } = await compileDoc(backupCluster({ backup: { schedule: 'Mon..Fri *-*-* 02:30', keep: 3, dir: '/srv/etcd-snapshots' } }));
  for (const host of model.hosts) {
    for (const path of FILES) assert.is(hosts.get(host.name)!.has(rootfs(path)), host.isEtcd, `${host.name} ${path}`);
    if (!host.isEtcd) continue;
    const member = model.etcd.members.find((m) => m.name === host.name)!;
    const mode = (p: string) => hosts.get(host.name)!.get(rootfs(p))!.mode;
    assert.equal(FILES.map(mode), [0o644, 0o644, 0o755, 0o755]);
    const timer = text(hosts, host.name, rootfs(ETCD_BACKUP_UNIT_PATHS.timer));
    assert.match(timer, /^OnCalendar=Mon\.\.Fri \*-\*-\* 02:30$/m);
    assert.match(timer, /^Unit=etcd-backup\.service$/m);
    assert.match(timer, /^WantedBy=timers\.target$/m);
    const service = text(hosts, host.name, rootfs(ETCD_BACKUP_UNIT_PATHS.service));
    assert.equal(execStartOf(service), { argv: [ETCD_BACKUP_SCRIPT_PATH], user: 'etcd' });
    assert.match(service, /^ReadWritePaths=\/srv\/etcd-snapshots$/m);
    const backup = text(hosts, host.name, rootfs(ETCD_BACKUP_SCRIPT_PATH));
    assert.match(backup, `readonly dir=/srv/etcd-snapshots keep=3 prefix=${snapshotPrefix(host.name)}\n`);
    assert.match(
      backup,
      '/usr/local/bin/etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/etcd/pki/ca.crt --cert=/etc/etcd/pki/server.crt --key=/etc/etcd/pki/server.key',
    );
    const restore = text(hosts, host.name, rootfs(ETCD_RESTORE_PATH));
    const initialCluster = 'm1=https://127.0.1.1:2380,m2=https://127.0.1.2:2380,m3=https://127.0.1.3:2380';
    assert.match(restore, `snapshot restore "$snapshot" --name=${host.name} --initial-cluster=${initialCluster} \\\n`);
    // A token of the restore's own: the cluster's and the snapshot's (test/etcd-backup-live.test.ts sees the new cluster ID).
    assert.match(restore, `token=${secrets.tokens!.etcdClusterToken}-restore-\${actual:0:16}\n`);
    assert.match(restore, `--initial-cluster-token="$token" --initial-advertise-peer-urls=${member.peerURL} --data-dir="$restored" "\${bump[@]}"`);
    assert.match(restore, 'bump=(--bump-revision=1000000000 --mark-compacted)');
    assert.match(restore, 'readonly data_dir=/var/lib/etcd unit=etcd.service etcd_user=etcd');
    assert.match(restore, "listeners=$(ss -Hltn 'sport = :2379 or sport = :2380')");
    for (const other of model.etcd.members.filter((m) => m !== member)) assert.match(restore, `${other.name} (${other.address})`, 'names the other members');
  }
  // The certificate the snapshot script presents may act as a client (extended key usage clientAuth, 1.3.6.1.5.5.7.3.2).
  const cert = parseCertificate(secrets.files.get('etcd/m1-server.crt')!);
  assert.ok(cert.native.keyUsage?.includes('1.3.6.1.5.5.7.3.2'), `server certificate usages: ${cert.native.keyUsage}`);
});

test('the restore program follows the installed etcd: etcdutl from 3.5, etcdctl for 3.4, either for the OS package', () => {
  assert.equal(restoreTools(modelOf(backupCluster())), ['/usr/local/bin/etcdutl']);
  const release = modelOf(backupCluster());
  // No 3.4 release checksum is known today (the inventory rules refuse one), so the model is changed directly.
  assert.equal(restoreTools({ ...release, etcd: { ...release.etcd, version: '3.4.37' } }), ['/usr/local/bin/etcdctl']);
  assert.equal(restoreTools(modelOf(backupCluster({ install: 'distro' }))), ['/usr/bin/etcdutl', '/usr/bin/etcdctl']);
});

test('docs/operations.md names what the bundles install and run, with the defaults of the schema', async () => {
  const guide = readFileSync(join(REPO, 'docs', 'operations.md'), 'utf8');
  const start = guide.indexOf('## Back up and restore etcd');
  const section = guide.slice(start, guide.indexOf('\n## ', start));
  const { model, hosts } = await compileDoc(backupCluster());
  const restore = text(hosts, 'm1', rootfs(ETCD_RESTORE_PATH));
  const backup = text(hosts, 'm1', rootfs(ETCD_BACKUP_SCRIPT_PATH));
  for (const name of [
    ...FILES,
    'etcd-backup.timer',
    'etcd-backup.service',
    model.etcd.backup.dir,
    `schedule: ${model.etcd.backup.schedule}`,
    `keep: ${model.etcd.backup.keep}`,
  ]) {
    assert.ok(section.includes(name), `the guide names ${name}`);
  }
  // Every flag and path step the restore script takes is in the guide, and the other way round.
  for (const flag of ['--name', '--initial-cluster', '--initial-cluster-token', '--initial-advertise-peer-urls', '--bump-revision']) {
    assert.match(restore, `${flag}=`);
    assert.ok(section.includes(`\`${flag}`), flag);
  }
  for (const [inScript, inGuide] of [
    ['"$data_dir/kubeha-restore-$stamp"', '<dataDir>/kubeha-restore-<UTC time>'],
    ['"$data_dir/kubeha-before-restore-$stamp"', '<dataDir>/kubeha-before-restore-<UTC time>/member'],
    ['--mark-compacted', '--mark-compacted'],
    ['-restore-$' + '{actual:0:16}', '-restore-<the first 16 hex digits of the\nsnapshot'],
    ['systemctl start --no-block "$unit"', 'starts `etcd.service`'],
  ] as [string, string][]) {
    assert.ok(restore.includes(inScript), inScript);
    assert.ok(section.includes(inGuide), inGuide);
  }
  // The example snapshot name has the shape the script writes.
  const example = /etcd-ceph1-\d{8}T\d{6}Z\.db/.exec(section)?.[0];
  assert.ok(example, 'an example snapshot name');
  assert.match(backup, 'stamp=$(date -u +%Y%m%dT%H%M%SZ)\nname="$prefix$stamp.db"');
});

test('defaults: daily, the newest 7, in /var/backups/etcd', () => {
  assert.equal(modelOf(backupCluster()).etcd.backup, { schedule: 'daily', keep: 7, dir: '/var/backups/etcd' });
});

/** The schedule problems kubeha reports, as `POINTER: message` lines ('' when it takes the schedule). */
function scheduleProblems(schedule: string): string {
  const result = validateInventory('inventory.json', JSON.stringify(backupCluster({ backup: { schedule } })));
  return result.errors
    .filter((p) => p.severity === 'error')
    .map((p) => `${p.pointer}: ${p.message}`)
    .join('\n');
}

/** Runs systemd-analyze calendar on expressions; '' when it parses every one. */
function systemdCalendar(expressions: string[]): string {
  const r = spawnSync('systemd-analyze', ['calendar', ...expressions], { encoding: 'utf8' });
  return r.status === 0 ? '' : `exit ${r.status}: ${r.stderr}`;
}

const ACCEPTED = [
  'daily',
  'hourly',
  'weekly',
  'monthly',
  'minutely',
  'quarterly',
  'semiannually',
  'yearly',
  'annually',
  '*-*-* 02:30',
  '*-*-* 02:30:00',
  'Mon..Fri *-*-* 03:00',
  'Sun 04:00',
  '03:00',
  '*-*-* 0/6:00',
  'Mon,Wed 01:15',
  '*-*-1 03:00',
  '*-01,07-01 03:00',
  'Mon',
  'Sat,Sun *-*-* 04:30:59',
  '*:0/15',
  '*-*-* 1..3:00',
];
const REJECTED: [string, RegExp][] = [
  ['', /must be a systemd OnCalendar expression kubeha accepts/],
  ['Daily', /OnCalendar/],
  ['daily; reboot', /OnCalendar/],
  ['$(reboot)', /OnCalendar/],
  ['daily\nExecStartPre=/bin/sh', /OnCalendar/],
  ['%h', /OnCalendar/],
  ['*-*-* 25:00', /OnCalendar/],
  ['*-*-* 02:61', /OnCalendar/],
  ['2026-01-01 00:00', /OnCalendar/],
  ['*-*-* */6:00', /OnCalendar/],
  ['Mon .. Fri 03:00', /OnCalendar/],
  ['*-*-* 03:00 UTC', /OnCalendar/],
  ['*-*-* 5..3:00', /hour range "5\.\.3" goes downwards: systemd would refuse/],
  ['Fri..Mon 03:00', /weekday range "Fri\.\.Mon" goes downwards/],
  ['*-*-* 23/50:00', /hour step "23\/50" goes past 23/],
  ['*-*-* 1..3/42:00', /hour step "1\.\.3\/42" is larger than 23/],
  ['*-*-* 1,*:00', /lists "\*" with other values/],
  ['Mon..Wed..Fri', /more than two ends/],
  ['*-*-* 03:00:19..19', /second range "19\.\.19" is empty/],
];

testNeeding(['systemd-analyze'], 'etcd.backup.schedule: the schema and the rules take the usual OnCalendar forms and refuse the rest, by JSON pointer', () => {
  for (const schedule of ACCEPTED) assert.is(scheduleProblems(schedule), '', schedule);
  for (const [schedule, why] of REJECTED) {
    const problems = scheduleProblems(schedule);
    assert.match(problems, /^\/etcd\/backup\/schedule: /, JSON.stringify(schedule));
    assert.match(problems, why, JSON.stringify(schedule));
  }
  assert.is(systemdCalendar(ACCEPTED), '');
  // What the schema refuses for systemd's own reasons, systemd refuses too (the checker is real).
  for (const schedule of ['*-*-* 25:00', '*-*-* 5..3:00', 'Fri..Mon 03:00', '*-*-* 23/50:00', '*-*-* */6:00', '*-*-* 1,*:00', '*-*-* 03:00:19..19'])
    assert.match(systemdCalendar([schedule]), /Failed to parse/, schedule);
});

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random expression of the schema's grammar, ranges and steps drawn past their bounds on purpose. */
function randomSchedule(next: () => number): string {
  const int = (n: number) => Math.floor(next() * n);
  const item = (min: number, max: number) => {
    if (int(8) === 0) return '*';
    const a = min + int(max - min + 1);
    // Mostly upward ranges and small steps, some downward or too large, so both kinds occur.
    const range = int(3) === 0 ? `..${int(5) ? a + int(max - a + 1) : min + int(max - min + 1)}` : '';
    const step = int(4) === 0 ? `/${1 + int(int(4) ? (max - min) / 3 : max - min + 5)}` : '';
    return `${a}${range}${step}`;
  };
  const list = (min: number, max: number) => Array.from({ length: 1 + (int(4) ? 0 : 1) }, () => item(min, max)).join(',');
  const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  const weekday = () => days[int(7)]! + (int(2) ? `${int(2) ? '..' : ','}${days[int(7)]}` : '');
  const parts = [int(2) ? weekday() : '', int(2) ? `*-${list(1, 12)}-${list(1, 31)}` : '', `${list(0, 23)}:${list(0, 59)}${int(2) ? `:${list(0, 59)}` : ''}`];
  return parts.filter(Boolean).join(' ');
}

testNeeding(['systemd-analyze'], 'property: every generated schedule kubeha accepts, systemd-analyze calendar parses (1000 samples, seed 16)', () => {
  const next = random(16);
  const samples = Array.from({ length: 1000 }, () => randomSchedule(next));
  const accepted = samples.filter((s) => scheduleProblems(s) === '');
  const refused = samples.filter((s) => !accepted.includes(s));
  assert.ok(accepted.length >= 300 && refused.length >= 100, `a useful mix: ${accepted.length} accepted, ${refused.length} refused`);
  assert.is(systemdCalendar(accepted), '');
  console.log(`  schedules: ${accepted.length} of 1000 generated accepted, all parsed by systemd-analyze calendar`);
});

/** For each expression, whether systemd-analyze calendar says it never elapses (every expression must parse). */
function systemdNever(expressions: string[]): boolean[] {
  const r = spawnSync('systemd-analyze', ['calendar', ...expressions], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const next = r.stdout.split('\n').filter((l) => /^\s*Next elapse:/.test(l));
  assert.is(next.length, expressions.length, r.stdout);
  return next.map((l) => /Next elapse: never$/.test(l));
}

const NEVER = [
  '*-02-30 03:00',
  '*-02-30,31 03:00',
  '*-04,06,09,11-31 03:00',
  'Mon *-02-30 03:00',
  '*-02..02-30..31 03:00',
  '*-04/5-31 03:00',
  '*-11-31 0/6:00',
];
const SOMETIMES = ['*-02-29 03:00', 'Mon *-02-29 03:00', '*-02/2-31 03:00', '*-*-31 03:00', '*-02..03-30 03:00', '*-04/4-31 03:00'];

testNeeding(['systemd-analyze'], 'etcd.backup.schedule: dates that never come are refused at the pointer; systemd-analyze agrees they never elapse', () => {
  assert.equal(
    systemdNever(NEVER),
    NEVER.map(() => true),
    'the oracle: never',
  );
  assert.equal(
    systemdNever(SOMETIMES),
    SOMETIMES.map(() => false),
    'the oracle: some day',
  );
  for (const schedule of NEVER)
    assert.match(scheduleProblems(schedule), /^\/etcd\/backup\/schedule: no month of ".*" has a day of ".*": the timer would never fire/, schedule);
  for (const schedule of SOMETIMES) assert.is(scheduleProblems(schedule), '', schedule);
  assert.is(
    scheduleProblems('*-04,06-31 03:00'),
    '/etcd/backup/schedule: no month of "04,06" has a day of "31": the timer would never fire, and no snapshot would ever be taken',
  );
});

testNeeding(
  ['systemd-analyze'],
  'property: kubeha refuses a month-day schedule exactly when systemd-analyze says it never elapses (1000 samples, seed 27)',
  () => {
    const next = random(27);
    const int = (n: number) => Math.floor(next() * n);
    // Short months and late days mostly, so both verdicts occur; ranges and steps as the schema allows them.
    const item = (values: number[], max: number) => {
      const a = values[int(values.length)]!;
      const kind = int(4);
      if (kind === 1) return `${a}..${Math.min(max, a + int(3))}`;
      if (kind === 2) return `${a}/${1 + int(6)}`;
      return String(a);
    };
    const samples = Array.from({ length: 1000 }, () => {
      const months = Array.from({ length: 1 + int(2) }, () => item([2, 4, 6, 9, 11, 1 + int(12)], 12)).join(',');
      const days = Array.from({ length: 1 + int(2) }, () => item([29, 30, 31, 30, 31, 1 + int(31)], 31)).join(',');
      return `${int(3) ? '' : 'Sat '}*-${months}-${days} 04:00`;
    }).filter((s) => !/systemd would refuse/.test(scheduleProblems(s)));
    const never = systemdNever(samples);
    const refused = samples.map((s) => /would never fire/.test(scheduleProblems(s)));
    for (const [i, schedule] of samples.entries()) assert.is(refused[i], never[i], schedule);
    const count = never.filter(Boolean).length;
    assert.ok(count >= 50 && samples.length - count >= 100, `a useful mix: ${count} never, ${samples.length - count} some day`);
    console.log(`  schedules: ${samples.length} month-day samples, ${count} never elapse (systemd-analyze), the same refused by kubeha`);
  },
);

testNeeding([NAMESPACES], "retention: a member whose name is a prefix of another's keeps its newest snapshots and leaves the other's alone", async () => {
  const doc = backupCluster({ backup: { dir: '/mnt/snapshots', keep: 2 } });
  doc.hosts.push({ name: 'm1-b', address: '127.0.1.4', roles: ['etcd'] }, { name: 'm5', address: '127.0.1.5', roles: ['etcd'] });
  const { hosts } = await compileDoc(doc);
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'backup.sh'), text(hosts, 'm1', rootfs(ETCD_BACKUP_SCRIPT_PATH)));
    const others = ['etcd-m1-b-20240101T000000Z.db', 'etcd-m1-b-20240102T000000Z.db', 'etcd-m1-b-20240103T000000Z.db'];
    const own = ['etcd-m1-20250101T000000Z.db', 'etcd-m1-20250102T000000Z.db'];
    const partial = '.etcd-m1-b-20250103T000000Z.db.partial';
    const files = [...others, ...others.map((f) => `${f}.sha256`), ...own, ...own.map((f) => `${f}.sha256`), partial];
    // A private /mnt for the snapshots and /usr/local/bin for an etcdctl that writes a snapshot file.
    const script = [
      'set -e',
      'mount --make-rprivate /',
      'mount -t tmpfs tmpfs /mnt',
      'mount -t tmpfs tmpfs /usr/local/bin',
      `printf '#!/bin/sh\\nfor a; do last=$a; done\\necho snapshot >"$last"\\n' >/usr/local/bin/etcdctl`,
      'chmod 0755 /usr/local/bin/etcdctl',
      'mkdir /mnt/snapshots && cd /mnt/snapshots',
      ...files.map((f) => `echo old >'${f}'`),
      `bash '${join(dir, 'backup.sh')}'`,
      'ls -A /mnt/snapshots',
    ].join('\n');
    const r = spawnSync('unshare', ['-m', 'sh', '-c', script], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const left = r.stdout.split('\n').filter((l) => /^\.?etcd-/.test(l));
    const made = left.find((f) => /^etcd-m1-\d{8}T\d{6}Z\.db$/.test(f) && !own.includes(f));
    assert.ok(made, `the new snapshot is kept: ${left.join(' ')}`);
    assert.equal(
      left.sort(),
      [...others, ...others.map((f) => `${f}.sha256`), partial, own[1]!, `${own[1]}.sha256`, made!, `${made}.sha256`].sort(),
      'm1 keeps its newest 2 (the new one and 20250102); m1-b keeps all of its own, its snapshot in progress too',
    );
    assert.match(r.stdout, `removed /mnt/snapshots/${own[0]} (keeping the newest 2)`);
  } finally {
    cleanup(dir);
  }
});

testNeeding([NAMESPACES], 'kubeha-etcd-restore takes a .sha256 in upper-case hex as well as lower-case, and refuses a wrong one', async () => {
  const { hosts } = await compileDoc(backupCluster());
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'restore'), text(hosts, 'm1', rootfs(ETCD_RESTORE_PATH)));
    writeFileSync(join(dir, 'snap.db'), 'a snapshot\n');
    const sum = spawnSync('sha256sum', [join(dir, 'snap.db')], { encoding: 'utf8' }).stdout.split(' ')[0]!;
    // /usr/local/bin empty in a private mount: the restore stops at "none of ... is installed", after the checksum.
    const restore = (line: string) => {
      writeFileSync(join(dir, 'snap.db.sha256'), line);
      const script = `mount --make-rprivate / && mount -t tmpfs tmpfs /usr/local/bin && exec bash '${join(dir, 'restore')}' '${join(dir, 'snap.db')}'`;
      // A network of its own too: no listener on the etcd ports there.
      const r = spawnSync('unshare', ['-m', '-n', 'sh', '-c', script], { encoding: 'utf8' });
      return r.stdout + r.stderr;
    };
    for (const hex of [sum, sum.toUpperCase()]) {
      const out = restore(`${hex}  snap.db\n`);
      assert.match(out, `snap.db matches its SHA-256 ${sum}`, hex);
      assert.match(out, 'error: none of /usr/local/bin/etcdutl is installed');
    }
    assert.match(restore(`${'A'.repeat(64)}  snap.db\n`), `does not match its SHA-256 (expected ${'a'.repeat(64)}, got ${sum})`);
    assert.match(restore(`${sum.slice(1)}  snap.db\n`), 'holds no SHA-256');
  } finally {
    cleanup(dir);
  }
});

testNeeding(
  ['systemd-analyze'],
  'systemd-analyze verify prints nothing for the backup and defragmentation services and timers (release and distro installs)',
  async () => {
    const dir = tempDir();
    try {
      for (const doc of [backupCluster(), backupCluster({ install: 'distro', backup: { schedule: '*-*-* 0/6:15' } })]) {
        const { hosts } = await compileDoc(doc);
        for (const host of ['m1', 'm2', 'm3']) {
          const units = {
            'etcd-backup.service': text(hosts, host, rootfs(ETCD_BACKUP_UNIT_PATHS.service)),
            'etcd-backup.timer': text(hosts, host, rootfs(ETCD_BACKUP_UNIT_PATHS.timer)),
            'etcd-defrag.service': text(hosts, host, rootfs(ETCD_DEFRAG_UNIT_PATHS.service)),
            'etcd-defrag.timer': text(hosts, host, rootfs(ETCD_DEFRAG_UNIT_PATHS.timer)),
          };
          assert.is(verifyUnits(units, dir), '', host);
        }
      }
      // The checker is real: a schedule systemd cannot parse, and a timer without its service, are reported.
      const { hosts } = await compileDoc(backupCluster());
      const timer = text(hosts, 'm1', rootfs(ETCD_BACKUP_UNIT_PATHS.timer));
      const service = text(hosts, 'm1', rootfs(ETCD_BACKUP_UNIT_PATHS.service));
      assert.match(
        verifyUnits({ 'etcd-backup.service': service, 'etcd-backup.timer': timer.replace('OnCalendar=daily', 'OnCalendar=*-*-* 25:00') }, dir),
        /OnCalendar|25:00/,
      );
      assert.match(verifyUnits({ 'etcd-backup.service': service.replace('Type=oneshot', 'Type=oneshots') }, dir), /oneshots/);
    } finally {
      cleanup(dir);
    }
  },
);

testNeeding(['shellcheck'], 'the snapshot, restore and restart scripts and run.sh of a member are shellcheck-clean', async () => {
  const dir = tempDir();
  try {
    for (const doc of [backupCluster(), backupCluster({ install: 'distro' })]) {
      const { hosts } = await compileDoc(doc);
      const files = ['run.sh', rootfs(ETCD_BACKUP_SCRIPT_PATH), rootfs(ETCD_RESTORE_PATH), rootfs(ETCD_RESTART_PATH), rootfs(ETCD_DEFRAG_SCRIPT_PATH)].map(
        (p, i) => {
          const path = join(dir, `${i}.sh`);
          writeFileSync(path, text(hosts, 'm2', p));
          return path;
        },
      );
      const sc = spawnSync('shellcheck', ['-S', 'warning', ...files], { encoding: 'utf8' });
      assert.is(sc.status, 0, sc.stdout);
    }
  } finally {
    cleanup(dir);
  }
});

test('the real bundle dry-runs the snapshot step: folder, daemon-reload, timer enabled and restarted, nothing changed', async () => {
  const dir = tempDir();
  let genDir: string | undefined;
  try {
    writeFileSync(join(dir, 'inventory.json'), JSON.stringify(backupCluster({ install: 'distro', backup: { dir: '/srv/kubeha-dry-run-snapshots' } })));
    const gen = await generateAndUnpack(join(dir, 'inventory.json'));
    genDir = gen.dir;
    const r = spawnSync('bash', [join(gen.unpacked, 'm1', 'run.sh'), '--dry-run', '--only', 'files,services'], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const at = (line: string) => lines.indexOf(line);
    for (const line of [
      '+ install -m 0755 /usr/local/sbin/kubeha-etcd-restore',
      '+ install -m 0644 /etc/systemd/system/etcd-backup.timer',
      '+ install -d -m 0700 -o etcd -g etcd /srv/kubeha-dry-run-snapshots',
      '+ systemctl enable etcd-backup.timer',
      '+ systemctl restart etcd-backup.timer',
    ]) {
      assert.ok(at(line) >= 0, `${line}\n${r.stdout}`);
    }
    assert.ok(at('+ systemctl enable etcd-backup.timer') > at('+ install -d -m 0700 -o etcd -g etcd /srv/kubeha-dry-run-snapshots'));
    assert.not.ok(existsSync('/srv/kubeha-dry-run-snapshots'), 'a dry run makes no folder');
  } finally {
    if (genDir) cleanup(genDir);
    cleanup(dir);
  }
});

test('run.sh makes the snapshot folder and enables the timer; it restarts the timer until it has applied the installed one', async () => {
  const { hosts } = await compileDoc(backupCluster({ backup: { dir: '/srv/etcd-snapshots' } }));
  const script = text(hosts, 'm1', 'run.sh');
  const step = script.slice(script.indexOf('# etcd snapshots: folder and timer'));
  assert.match(
    step,
    `safe_path /srv/etcd-snapshots 'the etcd snapshot folder'\n  if [[ $(stat -L -c '%U %a' "$ROOT"/srv/etcd-snapshots 2>/dev/null) != 'etcd 700' ]]; then\n    run install -d -m 0700 -o etcd -g etcd "$ROOT"/srv/etcd-snapshots\n  fi`,
  );
  assert.match(step, 'if ! systemctl is-enabled --quiet etcd-backup.timer; then run systemctl enable etcd-backup.timer; fi');
  assert.match(
    step,
    'if needs_apply etcd-backup.timer /etc/systemd/system/etcd-backup.timer; then\n    run systemctl restart etcd-backup.timer\n    mark_applied etcd-backup.timer /etc/systemd/system/etcd-backup.timer\n  elif ! systemctl is-active --quiet etcd-backup.timer; then\n    run systemctl start etcd-backup.timer',
  );
  assert.ok(script.indexOf('install_file 0644 /etc/systemd/system/etcd-backup.timer') > 0, 'the timer is installed by the files phase');
  assert.ok(script.indexOf('# etcd snapshots: folder and timer') > script.indexOf('# start etcd and wait until the member is healthy'), 'after etcd starts');
  assert.not.match(text(hosts, 'cp1', 'run.sh'), 'etcd-backup');
});

test.run();
