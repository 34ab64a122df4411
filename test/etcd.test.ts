import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { leafInstances } from '../src/pki/cert-list.js';
import { parseCertificate, sansOf } from '../src/pki/inspect.js';
import { issueLeaf } from '../src/pki/issue.js';
import { ETCD_UNIT_PATH } from '../src/render/etcd.js';
import { cleanup, compileDoc, generateAndUnpack, modelOf, NAMESPACES, REPO, tempDir, testNeeding, text, X64, type InventoryDoc } from './helpers.js';
import { verifyUnits } from './systemd.js';
import { etcdctl, execStartOf, flagValue, killMembers, LoopbackNet, startMember, tail, waitUntil, type ClientCert, type RunningMember } from './etcd-live.js';

const runbook = (): InventoryDoc => JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));

/** Three etcd members and a control plane on loopback addresses. */
const loopbackCluster = (etcd: Record<string, unknown> = {}): InventoryDoc => ({
  cluster: { name: 'looptest', kubernetesVersion: '1.34.2', podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' },
  etcd,
  hosts: [
    { name: 'cp1', address: '127.0.2.1', roles: ['control-plane'] },
    { name: 'etcd1', address: '127.0.1.1', roles: ['etcd'] },
    { name: 'etcd2', address: '127.0.1.2', roles: ['etcd'] },
    { name: 'etcd3', address: '127.0.1.3', roles: ['etcd'] },
  ],
});

/** Other shapes: hosts with several roles, five members, custom ports and data dir. */
const variants = (): InventoryDoc[] => {
  const mixed = runbook();
  mixed.hosts[0].roles = ['control-plane', 'loadbalancer', 'etcd'];
  mixed.hosts[1].roles = ['control-plane', 'loadbalancer', 'etcd'];
  mixed.hosts = mixed.hosts.slice(0, 3);
  const five = loopbackCluster({ clientPort: 12379, peerPort: 12380, dataDir: '/data/etcd-main' });
  five.hosts.push({ name: 'etcd4', address: '127.0.1.4', roles: ['etcd'] }, { name: 'etcd5.example.com', address: '127.0.1.5', roles: ['etcd', 'worker'] });
  return [runbook(), mixed, five, loopbackCluster({ install: 'distro' })];
};

/** What each of variants() must give, written out (etcd's defaults: /var/lib/etcd, clients on 2379, peers on 2380). */
const VARIANT_ETCD = [
  {
    dataDir: '/var/lib/etcd',
    client: 2379,
    peer: 2380,
    initialCluster: 'ceph1=https://172.21.16.14:2380,ceph2=https://172.21.16.6:2380,ceph3=https://172.21.16.13:2380',
  },
  {
    dataDir: '/var/lib/etcd',
    client: 2379,
    peer: 2380,
    initialCluster: 'worker1=https://10.0.8.6:2380,worker2=https://10.0.8.12:2380,ceph1=https://172.21.16.14:2380',
  },
  {
    dataDir: '/data/etcd-main',
    client: 12379,
    peer: 12380,
    initialCluster:
      'etcd1=https://127.0.1.1:12380,etcd2=https://127.0.1.2:12380,etcd3=https://127.0.1.3:12380,etcd4=https://127.0.1.4:12380,etcd5.example.com=https://127.0.1.5:12380',
  },
  {
    dataDir: '/var/lib/etcd',
    client: 2379,
    peer: 2380,
    initialCluster: 'etcd1=https://127.0.1.1:2380,etcd2=https://127.0.1.2:2380,etcd3=https://127.0.1.3:2380',
  },
];

const UNIT = `rootfs${ETCD_UNIT_PATH}`;

test('every etcd host gets one unit whose flags come from the inventory, each exactly once', async () => {
  for (const [i, doc] of variants().entries()) {
    const want = VARIANT_ETCD[i]!;
    const { model, secrets, hosts } = await compileDoc(doc);
    for (const host of model.hosts) {
      assert.is(hosts.get(host.name)!.has(UNIT), host.isEtcd, `${host.name}: unit present iff etcd member`);
      if (!host.isEtcd) continue;
      const unit = text(hosts, host.name, UNIT);
      const { argv, user } = execStartOf(unit);
      assert.is(user, 'etcd');
      assert.is(argv[0], model.etcd.install === 'distro' ? '/usr/bin/etcd' : '/usr/local/bin/etcd');
      const names = argv.slice(1).map((a) => a.replace(/=.*$/, ''));
      assert.equal(names, [...new Set(names)], 'no flag twice');
      assert.ok(
        argv.slice(1).every((a) => /^--[a-z-]+=\S+$/.test(a)),
        'every argument is --flag=value',
      );
      const flag = (n: string) => flagValue(argv, n);
      const own = (port: number) => `https://${host.address}:${port}`;
      assert.is(flag('name'), host.name);
      assert.is(flag('data-dir'), want.dataDir);
      assert.is(flag('listen-client-urls'), `${own(want.client)},https://127.0.0.1:${want.client}`);
      assert.is(flag('advertise-client-urls'), own(want.client));
      assert.is(flag('listen-peer-urls'), own(want.peer));
      assert.is(flag('initial-advertise-peer-urls'), own(want.peer));
      assert.is(flag('initial-cluster'), want.initialCluster);
      assert.ok(flag('initial-cluster').includes(`${host.name}=${flag('initial-advertise-peer-urls')}`), 'own entry = advertised peer URL');
      assert.is(flag('initial-cluster-state'), 'new');
      assert.is(flag('initial-cluster-token'), secrets.tokens!.etcdClusterToken);
      assert.is(flag('client-cert-auth'), 'true');
      assert.is(flag('peer-client-cert-auth'), 'true');
      for (const f of ['trusted-ca-file', 'peer-trusted-ca-file', 'cert-file', 'key-file', 'peer-cert-file', 'peer-key-file']) {
        assert.ok(hosts.get(host.name)!.has(`rootfs${flag(f)}`), `${host.name} ships ${flag(f)} named by --${f}`);
      }
      assert.not.ok(flag('data-dir').startsWith('/etc/etcd'), 'data dir apart from the certificates');
      for (const line of ['Type=notify', 'Restart=on-failure', 'LimitNOFILE=65536', 'WantedBy=multi-user.target'])
        assert.ok(unit.includes(`\n${line}\n`), line);
      assert.match(unit, /\nRestartSec=\d+s\n/);
    }
  }
});

test('the unit has no inline comment after a continuation (systemd would drop the flags behind it)', async () => {
  for (const doc of variants()) {
    const { model, hosts } = await compileDoc(doc);
    for (const host of model.hosts.filter((h) => h.isEtcd)) {
      const lines = text(hosts, host.name, UNIT).split('\n');
      lines.forEach((line, i) => {
        assert.not.match(line, /\\\s*#/, `line ${i + 1}`);
        if (i > 0 && lines[i - 1]!.endsWith('\\')) assert.not.ok(line.includes('#'), `continued line ${i + 1} has a #: ${line}`);
        if (line.includes('\\')) assert.ok(line.endsWith(' \\'), `a backslash only ends a line: ${line}`);
      });
    }
  }
});

/** Runs systemd-analyze verify on one etcd unit; '' when clean. */
const verifyUnit = (unit: string, dir: string) => verifyUnits({ 'etcd.service': unit }, dir);

testNeeding(['systemd-analyze', NAMESPACES], 'systemd-analyze verify prints nothing for every generated unit (release and distro binaries)', async () => {
  const dir = tempDir();
  try {
    let checked = 0;
    for (const doc of [runbook(), loopbackCluster({ install: 'distro' })]) {
      const { model, hosts } = await compileDoc(doc);
      for (const host of model.hosts.filter((h) => h.isEtcd)) {
        assert.is(verifyUnit(text(hosts, host.name, UNIT), dir), '', `${host.name}`);
        checked++;
      }
    }
    assert.is(checked, 6);
    // The checker is real: the runbook's inline comment after a continuation is reported.
    const broken = text((await compileDoc(runbook())).hosts, 'ceph1', UNIT).replace('--name=ceph1 \\', '--name=ceph1 \\ # must change');
    assert.match(verifyUnit(broken, dir), /Unknown key|Invalid|ignoring/);
  } finally {
    cleanup(dir);
  }
});

testNeeding(['shellcheck'], 'run.sh on etcd hosts installs, owns, starts and waits; it stays shellcheck-clean and dry-runs', async () => {
  const dir = tempDir();
  try {
    // A release version without a known checksum is refused by the inventory rules before anything is generated.
    assert.throws(() => modelOf(loopbackCluster({ version: '3.4.99' })), /kubeha knows no SHA-256 checksum of the etcd v3\.4\.99 release/);
    for (const doc of [runbook(), loopbackCluster({ install: 'distro' })]) {
      const { model, hosts } = await compileDoc(doc);
      const member = model.hosts.find((h) => h.isEtcd)!;
      const script = text(hosts, member.name, 'run.sh');
      const path = join(dir, 'run.sh');
      writeFileSync(path, script);
      const sc = spawnSync('shellcheck', ['-S', 'warning', path], { encoding: 'utf8' });
      assert.is(sc.status, 0, sc.stdout);
      assert.match(script, 'run useradd --system');
      assert.match(script, 'install -d -m 0700 -o etcd -g etcd "$ROOT"' + model.etcd.dataDir);
      assert.match(script, 'run chown etcd: "$ROOT$etcd_key"');
      // A running member is restarted one at a time by its restart script (test/etcd-restart.test.ts).
      assert.match(script, 'run "$ROOT"/usr/local/lib/kubeha/etcd-restart.sh');
      assert.match(script, `wait_for 120 `);
      assert.match(
        script,
        `--endpoints=https://127.0.0.1:${model.etcd.clientPort} --cacert="$ROOT"/etc/etcd/pki/ca.crt --cert="$ROOT"/etc/etcd/pki/server.crt`,
      );
      for (const other of model.hosts.filter((h) => h.isEtcd && h !== member))
        assert.match(script, `${other.name} (${other.address})`, 'timeout names the peers');
      if (model.etcd.install === 'distro') {
        assert.match(script, 'pkg_install etcd-server etcd-client');
        assert.not.match(script, 'curl');
      } else {
        // The upstream release's URL and SHA-256 (github.com/etcd-io/etcd/releases, as kubespray's checksums.yml lists them).
        for (const [uname, arch, sha256] of [
          ['x86_64', 'amd64', '0aad9a9e4e0817a021e933f9806a2b2960a62f949ad5a3d6436d8886945cb1bc'],
          ['aarch64', 'arm64', '1277309f540c5a0329c428f95455c9f76d24f768c8d28fd2753e891c379053fa'],
        ])
          assert.match(
            script,
            `${uname}) etcd_url=https://github.com/etcd-io/etcd/releases/download/v3.5.27/etcd-v3.5.27-linux-${arch}.tar.gz etcd_file=etcd-v3.5.27-linux-${arch}.tar.gz etcd_folder=etcd-v3.5.27-linux-${arch} etcd_sha256=${sha256} ;;`,
          );
        assert.match(script, 'run sha256sum --quiet --strict --check - <<<"$etcd_sha256  $etcd_cache/$etcd_file"');
      }
    }
  } finally {
    cleanup(dir);
  }
});

testNeeding([X64], 'the real bundle dry-runs the etcd phases: downloads, verifies, owns, starts, waits, and changes nothing', async () => {
  const dir = tempDir();
  let genDir: string | undefined;
  try {
    writeFileSync(join(dir, 'inventory.json'), JSON.stringify(runbook()));
    const gen = await generateAndUnpack(join(dir, 'inventory.json'));
    genDir = gen.dir;
    const r = spawnSync('bash', [join(gen.unpacked, 'ceph2', 'run.sh'), '--dry-run', '--only', 'packages,files,services'], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      '+ curl -fsSL --retry 3 -o /var/cache/kubeha/etcd-v3.5.27-linux-amd64.tar.gz https://github.com/etcd-io/etcd/releases/download/v3.5.27/etcd-v3.5.27-linux-amd64.tar.gz',
    );
    assert.match(r.stdout, '+ sha256sum --quiet --strict --check -');
    assert.match(r.stdout, '+ install -m 0644 /etc/systemd/system/etcd.service');
    // start when etcd is not running here, restart when it runs without having applied this bundle's unit and certificates.
    assert.match(r.stdout, /\+ systemctl (re)?start --no-block etcd\.service/);
    assert.match(r.stdout, '+ wait up to 120s for etcd member ceph2 to report healthy at https://127.0.0.1:2379');
    assert.ok(r.stdout.indexOf('phase services') > r.stdout.indexOf('install -m 0600 /etc/etcd/pki/server.key'), 'keys installed before they are chowned');
    assert.not.ok(
      existsSync('/etc/systemd/system/etcd.service') && readFileSync('/etc/systemd/system/etcd.service', 'utf8').includes('ceph2'),
      'dry run wrote nothing',
    );
  } finally {
    if (genDir) cleanup(genDir);
    cleanup(dir);
  }
});

test('property: every member certificate carries its address, 127.0.0.1, its name and localhost', async () => {
  let checked = 0;
  for (const doc of variants()) {
    const { model, hosts } = await compileDoc(doc);
    for (const host of model.hosts.filter((h) => h.isEtcd)) {
      for (const file of ['server.crt', 'peer.crt']) {
        const sans = sansOf(parseCertificate(text(hosts, host.name, `rootfs/etc/etcd/pki/${file}`)));
        for (const ip of [host.address, '127.0.0.1']) assert.ok(sans.ip.includes(ip), `${host.name} ${file} lacks IP ${ip}`);
        for (const dns of [host.name, 'localhost']) assert.ok(sans.dns.includes(dns), `${host.name} ${file} lacks DNS ${dns}`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 20, `checked ${checked} certificates`);
});

/** Generates the loopback cluster (distro install: the unit's /usr/bin/etcd is Debian's etcd here). */
async function generateLoopback(dir: string) {
  writeFileSync(join(dir, 'inventory.json'), JSON.stringify(loopbackCluster({ install: 'distro' })));
  const gen = await generateAndUnpack(join(dir, 'inventory.json'));
  const model = modelOf(loopbackCluster({ install: 'distro' }));
  const members = model.etcd.members.map((m) => ({ name: m.name, address: m.address, bundle: join(gen.unpacked, m.name) }));
  const cpPki = join(gen.unpacked, 'cp1', 'rootfs/etc/kubernetes/pki');
  const client: ClientCert = { ca: join(cpPki, 'etcd/ca.crt'), cert: join(cpPki, 'apiserver-etcd-client.crt'), key: join(cpPki, 'apiserver-etcd-client.key') };
  return { gen, model, members, client };
}

const ALL_HEALTHY_MS = 30_000;

testNeeding(
  ['etcd', 'etcdctl', 'curl', NAMESPACES],
  'LIVE: three members started from their units form a healthy mutual-TLS cluster on 127.0.1.1-3',
  async () => {
    const dir = tempDir();
    const running: RunningMember[] = [];
    let genDir: string | undefined;
    let net: LoopbackNet | undefined;
    try {
      net = new LoopbackNet(`ke${process.pid % 100000}`);
      const { gen, model, members, client } = await generateLoopback(dir);
      genDir = gen.dir;
      const clientNs = net.add('127.0.2.1');
      const endpoints = model.etcd.clientEndpoints;
      const started = Date.now();
      for (const m of members) running.push(startMember(net, m, join(dir, 'run')));
      const took = await waitUntil(() => etcdctl(clientNs, client, endpoints, ['endpoint', 'health']).status === 0, ALL_HEALTHY_MS);
      assert.ok(took !== null, `not healthy within ${ALL_HEALTHY_MS} ms:\n${running.map((m) => `${m.name}:\n${tail(m)}`).join('\n')}`);
      console.log(`  etcd: 3 members healthy ${Date.now() - started} ms after start`);
      const health = etcdctl(clientNs, client, endpoints, ['endpoint', 'health']);
      assert.is(health.out.match(/is healthy/g)?.length, 3, health.out);
      const list = etcdctl(clientNs, client, [endpoints[0]!], ['member', 'list']);
      assert.is(list.status, 0, list.out);
      const rows = list.out.trim().split('\n');
      assert.is(rows.length, 3, list.out);
      for (const m of model.etcd.members)
        assert.ok(
          rows.some((r) => r.includes(`, ${m.name}, ${m.peerURL}, ${m.clientURL}`)),
          `${m.name} listed: ${list.out}`,
        );
      assert.is(etcdctl(clientNs, client, [endpoints[0]!], ['put', '/kubeha/probe', 'hello']).status, 0);
      const got = etcdctl(clientNs, client, [endpoints[2]!], ['get', '--print-value-only', '/kubeha/probe']);
      assert.is(got.out.trim(), 'hello', 'a write on one member is read on another');
      // Each member's own health check, as run.sh does it: 127.0.0.1 in its namespace with its server cert.
      for (const m of running) {
        const pki = join(m.bundle, 'rootfs/etc/etcd/pki');
        const own = etcdctl(
          m.ns,
          { ca: join(pki, 'ca.crt'), cert: join(pki, 'server.crt'), key: join(pki, 'server.key') },
          [`https://127.0.0.1:${model.etcd.clientPort}`],
          ['endpoint', 'health'],
        );
        assert.is(own.status, 0, `${m.name}: ${own.out}`);
      }
      // Client-certificate auth: the same TLS request succeeds with the client cert and is refused without one.
      const curl = (...extra: string[]) =>
        spawnSync(
          'ip',
          [
            'netns',
            'exec',
            clientNs,
            'curl',
            '-s',
            '-o',
            '/dev/null',
            '-w',
            '%{http_code}',
            '--max-time',
            '3',
            '--cacert',
            client.ca,
            ...extra,
            `${endpoints[1]}/health`,
          ],
          { encoding: 'utf8' },
        );
      const withCert = curl('--cert', client.cert, '--key', client.key);
      assert.is(withCert.stdout, '200', `with the client cert: ${withCert.status}`);
      // The first control plane's run.sh waits for quorum by this body (kubeadm-init.sh.ejs: etcd_has_quorum).
      const body = spawnSync(
        'ip',
        [
          'netns',
          'exec',
          clientNs,
          'curl',
          '-sf',
          '--max-time',
          '3',
          '--cacert',
          client.ca,
          '--cert',
          client.cert,
          '--key',
          client.key,
          `${endpoints[0]}/health`,
        ],
        { encoding: 'utf8' },
      );
      assert.match(body.stdout, '"health":"true"');
      const without = curl();
      assert.is.not(without.status, 0, 'a client without a certificate is refused');
      assert.is.not(without.stdout, '200');
    } finally {
      await killMembers(running);
      net?.destroy();
      if (genDir) cleanup(genDir);
      cleanup(dir);
    }
  },
);

/** Issues a server and peer certificate for `member` without its own address, and installs them in its bundle. */
async function breakCertificates(secretsDir: string, member: { name: string; bundle: string }, doc: InventoryDoc) {
  const model = modelOf(doc);
  const caPem = readFileSync(join(secretsDir, 'etcd/ca.crt'), 'utf8');
  const caKeyDer = x509.PemConverter.decodeFirst(readFileSync(join(secretsDir, 'etcd/ca.key'), 'utf8'));
  const ca = {
    cert: new x509.X509Certificate(caPem),
    key: await crypto.subtle.importKey('pkcs8', caKeyDer, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']),
  };
  for (const leaf of leafInstances(model).filter((l) => l.host?.name === member.name)) {
    const kind = leaf.spec.name === 'etcd-server' ? 'server' : 'peer';
    const bad = { ...leaf, spec: { ...leaf.spec, sans: () => ({ dns: [member.name, 'localhost'], ip: ['127.0.0.1'] }) } };
    const { pem, keyPem } = await issueLeaf(bad, ca, model, { now: new Date(), crypto: globalThis.crypto });
    assert.not.ok(sansOf(parseCertificate(pem)).ip.includes(leaf.host!.address), 'the bad cert lacks the address');
    writeFileSync(join(member.bundle, `rootfs/etc/etcd/pki/${kind}.crt`), pem);
    writeFileSync(join(member.bundle, `rootfs/etc/etcd/pki/${kind}.key`), keyPem, { mode: 0o600 });
  }
}

testNeeding(['etcd', 'etcdctl', NAMESPACES], 'LIVE negative: a member whose certificate lacks its own address never becomes healthy', async () => {
  const dir = tempDir();
  const running: RunningMember[] = [];
  let genDir: string | undefined;
  let net: LoopbackNet | undefined;
  try {
    net = new LoopbackNet(`kn${process.pid % 100000}`);
    const { gen, model, members, client } = await generateLoopback(dir);
    genDir = gen.dir;
    const badMember = members[2]!;
    await breakCertificates(gen.secrets, badMember, loopbackCluster({ install: 'distro' }));
    const clientNs = net.add('127.0.2.1');
    mkdirSync(join(dir, 'run'), { recursive: true });
    for (const m of members) running.push(startMember(net, m, join(dir, 'run')));
    const good = model.etcd.clientEndpoints.slice(0, 2);
    const took = await waitUntil(() => etcdctl(clientNs, client, good, ['endpoint', 'health']).status === 0, ALL_HEALTHY_MS);
    assert.ok(took !== null, `the two good members (a quorum) should be healthy:\n${running.map((m) => `${m.name}:\n${tail(m)}`).join('\n')}`);
    const bad = running[2]!;
    const pki = join(bad.bundle, 'rootfs/etc/etcd/pki');
    const ownCheck = () =>
      etcdctl(
        bad.ns,
        { ca: join(pki, 'ca.crt'), cert: join(pki, 'server.crt'), key: join(pki, 'server.key') },
        [`https://127.0.0.1:${model.etcd.clientPort}`],
        ['endpoint', 'health'],
      );
    const healthy = await waitUntil(() => ownCheck().status === 0, 6_000, 500);
    assert.is(healthy, null, 'the member with the bad certificate must not become healthy');
    assert.is(bad.child.exitCode, null, `the bad member started and still runs:\n${tail(bad)}`);
    const logs = running.map((m) => readFileSync(m.log, 'utf8')).join('\n');
    const why = logs.split('\n').find((l) => /bad certificate|certificate is valid for|doesn't contain any IP SANs/.test(l));
    assert.ok(why, 'the logs name the TLS failure');
    const reason = /(remote error: tls: bad certificate|x509: [^"]*)/.exec(why!)?.[1] ?? why!.slice(0, 160);
    console.log(`  etcd: the member without its address stays unhealthy: ${reason}`);
  } finally {
    await killMembers(running);
    net?.destroy();
    if (genDir) cleanup(genDir);
    cleanup(dir);
  }
});

test.run();
