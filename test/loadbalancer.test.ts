/** Load balancer files: structure, the real checkers (haproxy -c, keepalived -t, shellcheck), run.sh steps, live check script. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, compileDoc, generateAndUnpack, NAMESPACES, tempDir, testNeeding, text, type InventoryDoc } from './helpers.js';
import { LB_PATHS, SCRIPT_USER } from '../src/render/loadbalancer.js';
import {
  addNamespace,
  deleteNamespace,
  fakeApiServerArgv,
  inNamespace,
  installedKeepalivedDir,
  must,
  nsName,
  requestsLogged,
  scriptUserOverlay,
  selfSignedCert,
  sh,
  startDaemon,
  stopDaemon,
  waitUntil,
  type Daemon,
} from './netns.js';

const rootfs = (path: string) => `rootfs${path}`;

/** An inventory with `lbCount` control planes that are also load balancers, plus one etcd host. */
function inventory(lbCount: number, lb: Record<string, unknown> = {}): InventoryDoc {
  const hosts = Array.from({ length: lbCount }, (_, i) => ({ name: `cp${i + 1}`, address: `10.20.0.${i + 11}`, roles: ['control-plane', 'loadbalancer'] }));
  return {
    cluster: { name: 'lbtest', kubernetesVersion: '1.34.2', podSubnet: '10.97.0.0/16', serviceSubnet: '10.96.0.0/16' },
    loadBalancer: { vip: '10.20.0.100', port: 16443, ...lb },
    hosts: [...hosts, { name: 'etcd1', address: '10.20.0.31', roles: ['etcd'] }],
  };
}

/**
 * The inventory variants every real-checker test walks, with the interface run.sh must choose where the hosts'
 * addresses sit on ens5: that one unless the inventory names another.
 */
const VARIANTS: { name: string; doc: InventoryDoc; iface: string }[] = [
  { name: 'two load balancers, unicast', doc: inventory(2), iface: 'ens5' },
  { name: 'three load balancers, unicast', doc: inventory(3), iface: 'ens5' },
  { name: 'one load balancer', doc: inventory(1), iface: 'ens5' },
  { name: 'multicast', doc: inventory(2, { vrrp: 'multicast', virtualRouterId: 7 }), iface: 'ens5' },
  { name: 'stats off, other port, the inventory names eth0', doc: inventory(2, { port: 8443, interface: 'eth0', stats: { enabled: false } }), iface: 'eth0' },
];

/** The body of one `name { ... }` block of keepalived.conf (no nested braces inside it). */
function block(conf: string, name: string): string {
  const m = new RegExp(`\\n\\s*${name} \\{\\n([^}]*)\\}`).exec(conf);
  if (!m) throw new Error(`no ${name} block`);
  return m[1]!;
}

test('keepalived.conf: priorities, peers, VRID, password, BACKUP + nopreempt, an unweighted check', async () => {
  const { model, secrets, hosts } = await compileDoc(inventory(3));
  const password = secrets.tokens!.vrrpPassword;
  assert.is(password.length, 8);
  const addresses = ['10.20.0.11', '10.20.0.12', '10.20.0.13'];
  ['cp1', 'cp2', 'cp3'].forEach((name, i) => {
    const conf = text(hosts, name, rootfs(LB_PATHS.keepalived));
    assert.match(conf, `\n  router_id ${name}\n`);
    assert.match(conf, '\n  script_user keepalived_script\n  enable_script_security\n');
    assert.match(conf, `\n  priority ${150 - i}\n`);
    assert.match(conf, '\n  state BACKUP\n  nopreempt\n');
    assert.not.match(conf, /state MASTER/);
    assert.match(conf, `\n  virtual_router_id ${model.loadBalancer!.virtualRouterId}\n`);
    assert.match(conf, `\n  unicast_src_ip ${addresses[i]}\n`);
    assert.equal(
      block(conf, 'unicast_peer').trim().split(/\s+/),
      addresses.filter((a) => a !== addresses[i]),
    );
    assert.match(conf, `auth_type PASS\n    auth_pass ${password}\n`);
    assert.is(block(conf, 'virtual_ipaddress').trim(), '10.20.0.100/32', "on the instance's interface");
    assert.match(conf, '\n  include /etc/keepalived/kubeha-interface.conf\n  virtual_router_id');
    assert.not.match(conf, /^\s*interface /m, 'the interface is in the file run.sh writes');
    const script = block(conf, 'vrrp_script check_haproxy');
    assert.match(script, 'script "/etc/keepalived/check_haproxy.sh"');
    for (const line of ['interval 2', 'timeout 3', 'fall 2', 'rise 2']) assert.match(script, `  ${line}\n`);
    const settings = conf
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n');
    assert.not.match(settings, /weight/, 'no weight: a failing check means FAULT');
    assert.is(block(conf, 'track_script').trim(), 'check_haproxy');
    assert.not.match(conf, /mcast/);
    assert.match(conf, '3 × 1 + 0.');
  });
  assert.not.ok(hosts.get('etcd1')!.has(rootfs(LB_PATHS.keepalived)), 'no load balancer files elsewhere');
});

test('keepalived.conf: multicast has no unicast keywords; one load balancer has none either', async () => {
  const multi = await compileDoc(inventory(2, { vrrp: 'multicast', virtualRouterId: 7 }));
  const conf = text(multi.hosts, 'cp2', rootfs(LB_PATHS.keepalived));
  assert.not.match(conf, /unicast/);
  assert.match(conf, '\n  virtual_router_id 7\n');
  assert.match(conf, '\n  priority 149\n');
  const single = await compileDoc(inventory(1));
  const alone = text(single.hosts, 'cp1', rootfs(LB_PATHS.keepalived));
  assert.not.match(alone.replace(/^#.*\n/gm, ''), /unicast/, 'keepalived warns about unicast keywords without peers');
  assert.match(alone, 'only load balancer');
});

test('haproxy.cfg: TCP defaults, every API server behind a TLS /readyz check, stats on the loopback with the password', async () => {
  const { secrets, hosts } = await compileDoc(inventory(3));
  const cfg = text(hosts, 'cp2', rootfs(LB_PATHS.haproxy));
  const defaults = cfg.slice(cfg.indexOf('\ndefaults\n'), cfg.indexOf('\nfrontend kube-apiserver\n'));
  assert.match(defaults, '\n  mode tcp\n');
  assert.not.match(cfg, /option (httplog|forwardfor|http-server-close)/);
  assert.match(cfg, '\n  bind *:16443\n');
  for (const line of ['option httpchk', 'http-check connect ssl', 'http-check send meth GET uri /readyz', 'http-check expect status 200']) {
    assert.match(cfg, `\n  ${line}\n`);
  }
  ['10.20.0.11', '10.20.0.12', '10.20.0.13'].forEach((address, i) => {
    assert.match(cfg, `\n  server cp${i + 1} ${address}:6443 check check-ssl verify none inter 2s fall 3 rise 2\n`);
  });
  const stats = cfg.slice(cfg.indexOf('\nfrontend stats\n'));
  assert.match(stats, '\n  mode http\n  bind 127.0.0.1:8404\n');
  assert.match(stats, `\n  stats auth admin:${secrets.tokens!.haproxyStatsPassword}\n`);
  assert.is(cfg.match(/\n {2}bind /g)!.length, 2, 'two listeners only');
  const off = await compileDoc(inventory(2, { stats: { enabled: false } }));
  assert.not.match(text(off.hosts, 'cp1', rootfs(LB_PATHS.haproxy)), /stats/);
  for (const path of hosts.get('cp1')!.keys()) {
    const settings = text(hosts, 'cp1', path)
      .split('\n')
      .filter((l) => !/^\s*#/.test(l))
      .join('\n');
    assert.not.match(settings, /ip_nonlocal_bind/, `${path}: a wildcard bind needs no ip_nonlocal_bind`);
  }
});

test('check_haproxy.sh: 0755, curl through the local haproxy, no side effects', async () => {
  const { hosts } = await compileDoc(inventory(2, { port: 8443 }));
  const file = hosts.get('cp1')!.get(rootfs(LB_PATHS.check))!;
  assert.is(file.mode, 0o755);
  const script = file.bytes.toString('utf8');
  assert.match(script, /^#!\/bin\/sh\n/);
  assert.match(script, '\nexec curl -sfk --max-time 2 -o /dev/null https://127.0.0.1:8443/healthz\n');
  const code = script
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
  assert.not.match(code, /kill|sleep|systemctl|service /);
});

testNeeding(['shellcheck'], 'shellcheck accepts check_haproxy.sh (-S style) and the run.sh of a load-balancer-only host (-S warning)', async () => {
  const doc = inventory(1);
  doc.hosts.push({ name: 'lb2', address: '10.20.0.21', roles: ['loadbalancer'] });
  const { hosts } = await compileDoc(doc);
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'check_haproxy.sh'), text(hosts, 'cp1', rootfs(LB_PATHS.check)));
    writeFileSync(join(dir, 'run.sh'), text(hosts, 'lb2', 'run.sh'));
    const runSh = sh(['shellcheck', '-S', 'warning', join(dir, 'run.sh')]);
    assert.is(runSh.status, 0, runSh.out);
    const check = sh(['shellcheck', '-S', 'style', join(dir, 'check_haproxy.sh')]);
    assert.is(check.status, 0, check.out);
  } finally {
    cleanup(dir);
  }
});

testNeeding(['haproxy'], 'haproxy -c accepts every generated haproxy.cfg, and rejects a broken one', async () => {
  const dir = tempDir();
  try {
    for (const { name, doc } of VARIANTS) {
      const { model, hosts } = await compileDoc(doc);
      for (const host of model.hosts.filter((h) => h.isLoadBalancer)) {
        const path = join(dir, `${host.name}.cfg`);
        writeFileSync(path, text(hosts, host.name, rootfs(LB_PATHS.haproxy)));
        const r = sh(['haproxy', '-c', '-f', path]);
        assert.is(r.status, 0, `${name}, ${host.name}: ${r.out}`);
        assert.not.match(r.out, /WARNING|ALERT/, `${name}, ${host.name}: ${r.out}`);
      }
    }
    const { hosts } = await compileDoc(inventory(2));
    writeFileSync(
      join(dir, 'broken.cfg'),
      text(hosts, 'cp1', rootfs(LB_PATHS.haproxy)).replace('http-check expect status 200', 'http-check expect statuz 200'),
    );
    assert.is.not(sh(['haproxy', '-c', '-f', join(dir, 'broken.cfg')]).status, 0, 'the check must catch errors');
  } finally {
    cleanup(dir);
  }
});

/**
 * keepalived -t in a namespace holding a bridge named like the interface, in a private mount namespace where the
 * bundle's keepalived folder is /etc/keepalived and keepalived_script exists. Returns status and output.
 */
function keepalivedCheck(ns: string, folder: string, overlay: ReturnType<typeof scriptUserOverlay>, conf = 'keepalived.conf') {
  const binds = [{ source: folder, target: '/etc/keepalived' }, ...overlay];
  return sh(inNamespace(ns, binds, ['keepalived', '-t', '-f', `/etc/keepalived/${conf}`]));
}

testNeeding(
  ['keepalived', NAMESPACES],
  'keepalived -t accepts every keepalived.conf as run.sh installs it, with the interface it found; it does flag a broken one',
  async () => {
    const dir = tempDir();
    const ns = nsName('kt');
    try {
      // The hosts' addresses sit on ens5; eth0 exists too (for the variant whose inventory names it).
      addNamespace(ns);
      for (const dev of ['eth0', 'ens5']) must(['ip', '-n', ns, 'link', 'add', dev, 'type', 'bridge']);
      for (const i of [11, 12, 13]) must(['ip', '-n', ns, 'addr', 'add', `10.20.0.${i}/24`, 'dev', 'ens5']);
      const overlay = scriptUserOverlay(dir, SCRIPT_USER);
      let checked = 0;
      for (const [v, { name, doc, iface }] of VARIANTS.entries()) {
        const { model, hosts } = await compileDoc(doc);
        for (const host of model.hosts.filter((h) => h.isLoadBalancer)) {
          const folder = installedKeepalivedDir(ns, hosts.get(host.name)!, join(dir, `${v}-${host.name}`));
          const conf = readFileSync(join(folder, 'keepalived.conf'), 'utf8');
          assert.is(conf, text(hosts, host.name, rootfs(LB_PATHS.keepalived)));
          const chosen = readFileSync(join(folder, 'kubeha-interface.conf'), 'utf8');
          assert.ok(chosen.endsWith(`\ninterface ${iface}\n`), `${name}, ${host.name}: ${chosen}`);
          // keepalived 2.2.7 -t with a non-root script_user ends killed by its own SIGTERM (143): judge by its output.
          const r = keepalivedCheck(ns, folder, overlay);
          assert.ok(r.status === 0 || r.signal === 'SIGTERM', `${name}, ${host.name}: status ${r.status ?? r.signal}: ${r.out}`);
          assert.is(r.out.replace(/^Terminated\n?/m, '').trim(), '', `${name}, ${host.name}`);
          // That early stop skips the script checks; the same file with script_user root runs them to the end (rc 0):
          // the check script exists, is root-owned and sits in no writable folder.
          writeFileSync(join(folder, 'as-root.conf'), conf.replace(`script_user ${SCRIPT_USER}`, 'script_user root'));
          const full = keepalivedCheck(ns, folder, overlay, 'as-root.conf');
          assert.is(full.status, 0, `${name}, ${host.name} (script_user root): ${full.out}`);
          checked++;
        }
      }
      assert.is(checked, 2 + 3 + 1 + 2 + 2);
      // The same harness reports errors: an unknown keyword and a too long password are printed...
      const { hosts } = await compileDoc(inventory(2));
      const broken = installedKeepalivedDir(ns, hosts.get('cp1')!, join(dir, 'broken'));
      const conf = readFileSync(join(broken, 'keepalived.conf'), 'utf8');
      writeFileSync(join(broken, 'keepalived.conf'), conf.replace('\n  nopreempt\n', '\n  nopreemptx\n').replace(/auth_pass \w+/, 'auth_pass 123456789'));
      const bad = keepalivedCheck(ns, broken, overlay);
      assert.match(bad.out, "Unknown keyword 'nopreemptx'", JSON.stringify(bad));
      assert.match(bad.out, 'Truncating auth_pass');
      // ...keepalived reads the interface from the included file: one naming a missing interface fails...
      writeFileSync(join(broken, 'as-root.conf'), conf.replace(`script_user ${SCRIPT_USER}`, 'script_user root'));
      writeFileSync(join(broken, 'kubeha-interface.conf'), 'interface ens9\n');
      const noSuchLink = keepalivedCheck(ns, broken, overlay, 'as-root.conf');
      assert.is(noSuchLink.status, 5, noSuchLink.out);
      assert.match(noSuchLink.out, "interface ens9 for vrrp_instance kube_apiserver doesn't exist");
      // ...and a check script that is missing fails the script_user root run.
      writeFileSync(join(broken, 'kubeha-interface.conf'), 'interface ens5\n');
      writeFileSync(join(broken, 'as-root.conf'), conf.replace(`script_user ${SCRIPT_USER}`, 'script_user root').replace('check_haproxy.sh"', 'missing.sh"'));
      const missing = keepalivedCheck(ns, broken, overlay, 'as-root.conf');
      assert.is(missing.status, 5, missing.out);
      assert.match(missing.out, 'not found');
    } finally {
      deleteNamespace(ns);
      cleanup(dir);
    }
  },
);

test('run.sh of a load balancer: packages, the script user, validate then start; a second run changes nothing', async () => {
  const dir = tempDir();
  let genDir: string | undefined;
  try {
    const inv = join(dir, 'inventory.json');
    // The inventory names the interface: with --root run.sh writes it as is (the fast test of the one it finds is
    // test/vrrp-interface.test.ts).
    const doc = inventory(1, { interface: 'eth0' });
    doc.hosts.push({ name: 'lb2', address: '10.20.0.21', roles: ['loadbalancer'] });
    writeFileSync(inv, JSON.stringify(doc));
    const gen = await generateAndUnpack(inv, join(dir, 'secrets'));
    genDir = gen.dir;
    const runSh = join(gen.unpacked, 'lb2', 'run.sh');
    const root = join(dir, 'root');
    mkdirSync(root);
    const dry = sh(['bash', runSh, '--dry-run', '--root', root, '--only', 'packages,files,services']);
    assert.is(dry.status, 0, dry.out);
    const lines = dry.out.split('\n').filter((l) => l.startsWith('+ '));
    const at = (needle: string) => lines.findIndex((l) => l.includes(needle));
    if (sh(['getent', 'passwd', SCRIPT_USER]).status !== 0) assert.ok(at(`useradd --system`) >= 0, dry.out);
    const validate = at('+ haproxy -c -q -f /etc/haproxy/haproxy.cfg');
    assert.ok(validate > at('install -m 0600 /etc/haproxy/haproxy.cfg'), 'validated after it is installed');
    assert.ok(at('install -m 0755 /etc/keepalived/check_haproxy.sh') >= 0);
    const haproxyStart = Math.max(at('systemctl enable --now haproxy'), at('systemctl reload haproxy'));
    const keepalivedStart = Math.max(at('systemctl enable --now keepalived'), at('systemctl reload keepalived'));
    assert.ok(validate < haproxyStart && haproxyStart < keepalivedStart, dry.out);
    // Install the files for real under the root, then a dry run again: no file to install, but haproxy has not applied
    // them yet (no stamp under ROOT/var/lib/kubeha/applied), so it still validates and starts or reloads.
    assert.is(sh(['bash', runSh, '--root', root, '--only', 'files']).status, 0);
    const again = sh(['bash', runSh, '--dry-run', '--root', root, '--only', 'files,services']);
    assert.is(again.status, 0, again.out);
    assert.not.match(again.out, /install -m/);
    assert.match(again.out, '+ haproxy -c -q -f /etc/haproxy/haproxy.cfg');
  } finally {
    if (genDir) cleanup(genDir);
    cleanup(dir);
  }
});

testNeeding(
  ['haproxy', 'curl', 'openssl', NAMESPACES],
  'live: the check script passes through haproxy, fails without a ready API server, fails fast without haproxy',
  async () => {
    // A private network namespace (loopback only): every port is free there and parallel runs cannot collide.
    const ns = nsName('live');
    const inNs = (...args: string[]) => ['ip', 'netns', 'exec', ns, ...args];
    const dir = tempDir();
    const daemons: Daemon[] = [];
    try {
      addNamespace(ns);
      const [port, statsPort] = [16443, 8404];
      const apiServers = ['127.0.52.1', '127.0.52.2'];
      const { hosts, secrets } = await compileDoc({
        ...inventory(0, { vip: '127.0.52.100', port, stats: { enabled: true, port: statsPort }, maxConnections: 5000 }),
        hosts: [
          ...apiServers.map((address, i) => ({ name: `cp${i + 1}`, address, roles: ['control-plane', 'loadbalancer'] })),
          { name: 'etcd1', address: '127.0.52.31', roles: ['etcd'] },
        ],
      });
      const tls = selfSignedCert(dir);
      const fakes = apiServers.map((address, i) => startDaemon(`api${i}`, inNs(...fakeApiServerArgv(address, 6443, tls)), join(dir, `api${i}.log`)));
      daemons.push(...fakes);
      const cfg = join(dir, 'haproxy.cfg');
      writeFileSync(cfg, text(hosts, 'cp1', rootfs(LB_PATHS.haproxy)));
      const haproxy = startDaemon('haproxy', inNs('haproxy', '-db', '-f', cfg), join(dir, 'haproxy.log'));
      daemons.push(haproxy);
      const script = join(dir, 'check_haproxy.sh');
      writeFileSync(script, text(hosts, 'cp1', rootfs(LB_PATHS.check)), { mode: 0o755 });
      const runCheck = () => sh(inNs(script), 10_000);
      const check = () => runCheck().status === 0;

      const upMs = await waitUntil('the check script to pass', check, 10_000);
      console.log(`  check passes ${upMs.toFixed(0)} ms after haproxy starts`);
      await waitUntil('haproxy to check /readyz on every API server', () => fakes.every((f) => requestsLogged(f.log, '/readyz') > 0), 5_000);
      assert.ok(
        fakes.some((f) => requestsLogged(f.log, '/healthz') > 0),
        'the script reached an API server',
      );
      // Stats: loopback only, 401 without the password, 200 with it.
      const curlStatus = (...args: string[]) => sh(inNs('curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', ...args)).out;
      assert.is(curlStatus(`http://127.0.0.1:${statsPort}/stats`), '401');
      assert.is(curlStatus('-u', `admin:${secrets.tokens!.haproxyStatsPassword}`, `http://127.0.0.1:${statsPort}/stats`), '200');
      assert.is(curlStatus(`http://127.0.52.1:${statsPort}/stats`), '000', 'not reachable on other addresses');
      // The running haproxy took loadBalancer.maxConnections: the API frontend's session limit (slim) in the stats CSV.
      const csv = sh(
        inNs('curl', '-s', '--max-time', '2', '-u', `admin:${secrets.tokens!.haproxyStatsPassword}`, `http://127.0.0.1:${statsPort}/stats;csv`),
      ).out;
      const header = csv.split('\n')[0]!.replace(/^# /, '').split(',');
      const frontend = csv
        .split('\n')
        .find((l) => l.startsWith('kube-apiserver,FRONTEND,'))!
        .split(',');
      assert.is(frontend[header.indexOf('slim')], '5000', csv);

      // Both API servers lose readiness (/healthz would still answer): haproxy takes them out, the check fails.
      for (const f of fakes) f.child.kill('SIGUSR1');
      const downMs = await waitUntil('the check script to fail with no ready API server', () => !check(), 15_000);
      console.log(`  check fails ${downMs.toFixed(0)} ms after every /readyz turns 500 (haproxy: fall 3 × inter 2s)`);

      await stopDaemon(haproxy);
      const t0 = performance.now();
      const stopped = runCheck();
      const failMs = performance.now() - t0;
      console.log(`  with haproxy stopped the check fails (status ${stopped.status}) in ${failMs.toFixed(0)} ms`);
      assert.is.not(stopped.status, 0);
      assert.ok(failMs < 1500, `fails fast (${failMs} ms)`);
    } finally {
      for (const d of daemons) await stopDaemon(d, 'SIGKILL');
      deleteNamespace(ns);
      cleanup(dir);
    }
  },
);

test.run();
