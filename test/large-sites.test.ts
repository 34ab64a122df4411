/**
 * Sized for large sites, each changeable in the inventory: the nodes' neighbour table (gc_thresh1/2/3, taken by a real
 * kernel in a network namespace), haproxy's maxconn and leastconn balance (haproxy -c; the live maxconn is in
 * test/loadbalancer.test.ts), etcd's backend quota, and etcd's scheduled defragmentation, one member at a time, run
 * against a live cluster of Debian's etcd.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateInventory } from '../src/inventory/index.js';
import { ETCD_DEFRAG_SCRIPT_PATH, ETCD_DEFRAG_UNIT_PATHS } from '../src/render/etcd-defrag.js';
import { LB_PATHS } from '../src/render/loadbalancer.js';
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
  type RunningMember,
} from './etcd-live.js';
import { cleanup, compileDoc, generateAndUnpack, modelOf, NAMESPACES, tempDir, testNeeding, text, type InventoryDoc } from './helpers.js';

const rootfs = (path: string) => `rootfs${path}`;

const cluster = (more: { cluster?: object; loadBalancer?: object; etcd?: object } = {}): InventoryDoc => ({
  cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16', ...more.cluster },
  loadBalancer: { vip: '10.30.0.100', ...more.loadBalancer },
  etcd: { ...more.etcd },
  hosts: [
    { name: 'cp1', address: '10.30.0.11', roles: ['control-plane', 'loadbalancer'] },
    { name: 'cp2', address: '10.30.0.12', roles: ['control-plane', 'loadbalancer'] },
    { name: 'e1', address: '10.30.0.21', roles: ['etcd'] },
    { name: 'w1', address: '10.30.0.31', roles: ['worker'] },
  ],
});

test('defaults: neighbour table 8192/32768/65536, haproxy frontend maxconn 20000 with leastconn, etcd quota 8 GiB, defragmentation on Sundays', async () => {
  const { hosts } = await compileDoc(cluster());
  const sysctl = text(hosts, 'w1', rootfs('/etc/sysctl.d/99-kubernetes.conf'));
  for (const line of ['net.ipv4.neigh.default.gc_thresh1 = 8192', 'net.ipv4.neigh.default.gc_thresh2 = 32768', 'net.ipv4.neigh.default.gc_thresh3 = 65536'])
    assert.match(sysctl, `\n${line}\n`);
  assert.is(hosts.get('e1')!.has(rootfs('/etc/sysctl.d/99-kubernetes.conf')), false, 'etcd-only hosts are no nodes');
  const haproxy = text(hosts, 'cp1', rootfs(LB_PATHS.haproxy));
  assert.match(haproxy.slice(haproxy.indexOf('\nfrontend kube-apiserver\n'), haproxy.indexOf('\nbackend kube-apiserver\n')), '\n  maxconn 20000\n');
  assert.not.match(
    haproxy.slice(haproxy.indexOf('\nglobal\n'), haproxy.indexOf('\ndefaults\n')),
    'maxconn',
    'a global maxconn above the file limit would stop haproxy',
  );
  assert.match(haproxy.slice(haproxy.indexOf('\nbackend kube-apiserver\n')), '\n  balance leastconn\n');
  assert.not.match(haproxy, 'roundrobin');
  assert.ok(execStartOf(text(hosts, 'e1', rootfs('/etc/systemd/system/etcd.service'))).argv.includes('--quota-backend-bytes=8589934592'));
  assert.match(text(hosts, 'e1', rootfs(ETCD_DEFRAG_UNIT_PATHS.timer)), /^OnCalendar=Sun 03:30$/m);
  assert.not.match(text(hosts, 'e1', rootfs(ETCD_DEFRAG_UNIT_PATHS.timer)), 'Persistent=true');
  assert.equal(execStartOf(text(hosts, 'e1', rootfs(ETCD_DEFRAG_UNIT_PATHS.service))), { argv: [ETCD_DEFRAG_SCRIPT_PATH], user: 'etcd' });
  for (const host of ['cp1', 'w1']) assert.is(hosts.get(host)!.has(rootfs(ETCD_DEFRAG_SCRIPT_PATH)), false);
});

test('the inventory keys change them; thresholds out of order and a schedule that never comes are refused where they are', async () => {
  const { hosts } = await compileDoc(
    cluster({
      cluster: { neighborTable: { gcThresh1: 1024, gcThresh2: 4096, gcThresh3: 16384 } },
      loadBalancer: { maxConnections: 50000 },
      etcd: { quotaBackendBytes: 4294967296, defrag: { schedule: '*-*-01 04:00' } },
    }),
  );
  assert.match(text(hosts, 'w1', rootfs('/etc/sysctl.d/99-kubernetes.conf')), 'net.ipv4.neigh.default.gc_thresh3 = 16384\n');
  assert.match(text(hosts, 'cp2', rootfs(LB_PATHS.haproxy)), '\n  maxconn 50000\n');
  assert.ok(execStartOf(text(hosts, 'e1', rootfs('/etc/systemd/system/etcd.service'))).argv.includes('--quota-backend-bytes=4294967296'));
  assert.match(text(hosts, 'e1', rootfs(ETCD_DEFRAG_UNIT_PATHS.timer)), /^OnCalendar=\*-\*-01 04:00$/m);
  const problems = (doc: InventoryDoc) =>
    validateInventory('inventory.json', JSON.stringify(doc))
      .errors.filter((p) => p.severity === 'error')
      .map((p) => `${p.pointer}: ${p.message}`);
  assert.equal(problems(cluster({ cluster: { neighborTable: { gcThresh1: 40000 } } })), [
    '/cluster/neighborTable/gcThresh1: 40000 is above gcThresh2 (32768): the kernel collects nothing below gcThresh1',
  ]);
  assert.equal(problems(cluster({ cluster: { neighborTable: { gcThresh2: 70000 } } })), [
    '/cluster/neighborTable/gcThresh2: 70000 is above gcThresh3 (65536), the most entries the table holds',
  ]);
  assert.equal(problems(cluster({ etcd: { defrag: { schedule: '*-02-30 03:00' } } })), [
    '/etcd/defrag/schedule: no month of "02" has a day of "30": the timer would never fire, and no member would ever be defragmented',
  ]);
  assert.equal(problems(cluster({ loadBalancer: { maxConnections: 10 } })), ['/loadBalancer/maxConnections: must be >= 100']);
});

testNeeding(
  [NAMESPACES, 'sysctl'],
  "the neighbour keys are the kernel's, and sysctl --system goes on where a node's network namespace has none (a container)",
  async () => {
    const { hosts } = await compileDoc(cluster());
    const conf = text(hosts, 'w1', rootfs('/etc/sysctl.d/99-kubernetes.conf'));
    const keys = conf
      .split('\n')
      .filter((l) => l.startsWith('net.ipv4.neigh.'))
      .map((l) => l.split(' = ')[0]!);
    assert.equal(keys, ['net.ipv4.neigh.default.gc_thresh1', 'net.ipv4.neigh.default.gc_thresh2', 'net.ipv4.neigh.default.gc_thresh3']);
    // The table's thresholds are global: the kernel shows them in the initial network namespace only (read here, never written).
    const initial = spawnSync('sysctl', ['-n', ...keys], { encoding: 'utf8' });
    if (initial.status === 0) assert.is(initial.stdout.trim().split('\n').length, 3);
    // A node in a network namespace of its own (LXC, nspawn, the e2e's booted hosts): run.sh's sysctl --system leaves them
    // out. Only these lines: the file's fs.inotify keys are global and this machine's are not the test's to write.
    const dir = tempDir();
    try {
      writeFileSync(
        join(dir, '99-kubernetes.conf'),
        conf
          .split('\n')
          .filter((l) => !/^[a-z]/.test(l) || l.startsWith('net.ipv4.neigh.'))
          .join('\n'),
      );
      const script = [
        'mount --make-rprivate /',
        'for d in /etc/sysctl.d /usr/lib/sysctl.d; do mount -t tmpfs none "$d"; done',
        `cp '${dir}/99-kubernetes.conf' /etc/sysctl.d/`,
        `: >'${dir}/empty' && mount --bind '${dir}/empty' /etc/sysctl.conf`,
        'sysctl --system',
      ].join(' && ');
      const r = spawnSync('unshare', ['-n', '-m', 'sh', '-c', script], { encoding: 'utf8' });
      assert.is(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, '* Applying /etc/sysctl.d/99-kubernetes.conf ...');
    } finally {
      cleanup(dir);
    }
  },
);

testNeeding(
  ['haproxy'],
  'haproxy -c accepts maxconn and balance leastconn, and haproxy starts under a file limit too low for that many connections',
  async () => {
    const { hosts } = await compileDoc(cluster({ loadBalancer: { maxConnections: 50000 } }));
    const dir = tempDir();
    try {
      writeFileSync(join(dir, 'haproxy.cfg'), text(hosts, 'cp1', rootfs(LB_PATHS.haproxy)));
      const r = spawnSync('haproxy', ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' });
      assert.is(r.status, 0, r.stdout + r.stderr);
      assert.not.match(r.stdout + r.stderr, /WARNING|ALERT/);
      // A global maxconn of 50000 needs 100000 descriptors: haproxy would refuse to start under a hard limit of 4096
      // ("Cannot raise FD limit"). The frontend's does not: haproxy sizes its own global maxconn from the limit.
      const start = (cfg: string) =>
        spawnSync('unshare', ['-n', 'sh', '-c', `ulimit -Sn 4096 && ulimit -Hn 4096 && timeout 3 haproxy -db -f '${cfg}'; echo "exit $?"`], {
          encoding: 'utf8',
        });
      const global = join(dir, 'global.cfg');
      writeFileSync(global, text(hosts, 'cp1', rootfs(LB_PATHS.haproxy)).replace('\nglobal\n', '\nglobal\n  maxconn 50000\n'));
      assert.match(start(global).stdout + start(global).stderr, 'Cannot raise FD limit');
      const ours = start(join(dir, 'haproxy.cfg'));
      assert.match(ours.stdout, 'exit 124', ours.stdout + ours.stderr);
    } finally {
      cleanup(dir);
    }
  },
);

/** Runs a member's generated defragmentation script as its service does (the etcd user), with its pki and scripts mounted. */
function defragIn(member: RunningMember, dir: string, service: string): { code: number | null; out: string; ms: number } {
  const { argv, user } = execStartOf(service);
  const started = Date.now();
  const mounts = [
    { source: join(member.bundle, 'rootfs/etc/etcd/pki'), target: '/etc/etcd/pki' },
    { source: join(member.bundle, 'rootfs/usr/local/lib/kubeha'), target: '/usr/local/lib/kubeha' },
  ];
  const result = runWithMounts(member.ns, mounts, join(dir, `mnt-${member.name}-${started}`), argv, { user: user! });
  return { code: result.status, out: `${result.stdout}${result.stderr}`, ms: Date.now() - started };
}

testNeeding(
  ['etcd', 'etcdctl', 'setpriv', NAMESPACES],
  'LIVE: the defragmentation script defragments its member under the lock in etcd, waits for another holder, and refuses without a quorum of others',
  async () => {
    const dir = tempDir();
    const running: RunningMember[] = [];
    let net: LoopbackNet | undefined;
    let genDir: string | undefined;
    try {
      const doc = backupCluster({ install: 'distro' });
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
      net = new LoopbackNet(`kd${process.pid % 100000}`);
      const clientNs = net.add('127.0.2.1');
      const endpoints = model.etcd.clientEndpoints;
      for (const m of model.etcd.members)
        running.push(startMember(net, { name: m.name, address: m.address, bundle: join(gen.unpacked, m.name) }, join(dir, 'run')));
      assert.ok(
        (await waitUntil(() => etcdctl(clientNs, client, endpoints, ['endpoint', 'health']).status === 0, 30_000)) !== null,
        running.map((m) => tail(m)).join('\n'),
      );
      for (let i = 0; i < 200; i++) etcdctl(clientNs, client, endpoints, ['put', `/kubeha/defrag/k${i % 20}`, 'x'.repeat(2000)]);
      const m1 = running[0]!;
      const service = readService(m1);

      const alone = defragIn(m1, dir, service);
      assert.is(alone.code, 0, alone.out);
      assert.match(alone.out, /defragmented m1: database \d+ -> \d+ bytes/);

      // Another holder of the lock (another member's defragmentation): m1's waits for it, then defragments.
      const holder = spawn('ip', [
        'netns',
        'exec',
        clientNs,
        'etcdctl',
        `--endpoints=${endpoints.join(',')}`,
        `--cacert=${client.ca}`,
        `--cert=${client.cert}`,
        `--key=${client.key}`,
        'lock',
        'kubeha-etcd-defrag',
        '--',
        'sleep',
        '4',
      ]);
      await new Promise((r) => setTimeout(r, 1000));
      const waited = defragIn(m1, dir, service);
      holder.kill();
      assert.is(waited.code, 0, waited.out);
      assert.ok(waited.ms >= 2500, `m1's defragmentation waited for the lock (${waited.ms} ms)`);
      console.log(`  etcd defrag: alone ${alone.ms} ms; behind another holder of the lock ${waited.ms} ms (it held it 4 s)`);

      // m3 down: m1 is not defragmented (it would be blocked while only m2 serves), the script says why.
      await killMembers([running[2]!]);
      const refused = defragIn(m1, dir, service);
      assert.is(refused.code, 1, refused.out);
      assert.match(refused.out, 'not defragmenting m1: only 1 of the other members answer, 2 needed while it is blocked');
    } finally {
      await killMembers(running);
      net?.destroy();
      if (genDir) cleanup(genDir);
      cleanup(dir);
    }
  },
);

/** A member's generated etcd-defrag.service. */
function readService(member: RunningMember): string {
  return spawnSync('cat', [join(member.bundle, 'rootfs', ETCD_DEFRAG_UNIT_PATHS.service)], { encoding: 'utf8' }).stdout;
}

test.run();
