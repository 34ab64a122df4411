/**
 * VRRP failover with the generated files and real daemons: two load balancer namespaces joined by a bridge
 * namespace, each running a fake API server, haproxy and keepalived from its own bundle's files.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup, compileDoc, NAMESPACES, tempDir, testNeeding, text } from './helpers.js';
import { LB_PATHS, SCRIPT_USER } from '../src/render/loadbalancer.js';
import {
  addNamespace,
  deleteNamespace,
  fakeApiServerArgv,
  hasAddress,
  inNamespace,
  installedKeepalivedDir,
  must,
  nsName,
  scriptUserOverlay,
  selfSignedCert,
  sh,
  sleep,
  startDaemon,
  stopDaemon,
  waitUntil,
  type Daemon,
} from './netns.js';

const SUBNET = '192.168.213';
const VIP = `${SUBNET}.100`;
const PORT = 16443;

/** One load balancer: its namespace, address and daemons. */
interface Node {
  name: string;
  ns: string;
  address: string;
  dir: string;
  /** /etc/keepalived as run.sh installed it in the node's namespace. */
  keepalivedDir?: string;
  haproxy?: Daemon;
  keepalived?: Daemon;
}

const rootfs = (path: string) => `rootfs${path}`;

/** Starts haproxy from the node's generated haproxy.cfg, in the foreground (-db), in its namespace. */
function startHaproxy(n: Node): Daemon {
  return startDaemon(`${n.name} haproxy`, ['ip', 'netns', 'exec', n.ns, 'haproxy', '-db', '-f', join(n.dir, 'haproxy.cfg')], join(n.dir, 'haproxy.log'));
}

/** Starts keepalived (VRRP only, no fork, own pid files) with the node's keepalived folder at /etc/keepalived. */
function startKeepalived(n: Node, overlay: ReturnType<typeof scriptUserOverlay>): Daemon {
  const binds = [{ source: n.keepalivedDir!, target: '/etc/keepalived' }, ...overlay];
  const argv = [
    'keepalived',
    '--vrrp',
    '--dont-fork',
    '--log-console',
    '--log-detail',
    '--no-syslog',
    '-f',
    '/etc/keepalived/keepalived.conf',
    '-p',
    join(n.dir, 'keepalived.pid'),
    '-r',
    join(n.dir, 'vrrp.pid'),
    '-c',
    join(n.dir, 'checkers.pid'),
  ];
  return startDaemon(`${n.name} keepalived`, inNamespace(n.ns, binds, argv), join(n.dir, 'keepalived.log'));
}

/** Kills the VRRP child named in a pid file if it outlived its parent (checked by name: pids are reused). */
function killStrayVrrpChild(pidFile: string): void {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (pid > 1 && readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('keepalived')) process.kill(pid, 'SIGKILL');
  } catch {
    // no pid file or no such process: nothing to clean
  }
}

/**
 * The whole story for one VRRP transport; prints and returns nothing, asserts everything. Each node's link is named
 * `link`; `named` puts that name in the inventory, otherwise run.sh finds it (the link holding the node's address).
 */
async function failoverScenario(vrrp: 'unicast' | 'multicast', link: string, named: boolean): Promise<void> {
  const holdsVip = (n: Node) => hasAddress(n.ns, link, VIP);
  const dir = tempDir();
  const bridge = nsName(`${vrrp[0]}br`);
  const nodes: Node[] = ['a', 'b'].map((tag, i) => ({ name: `lb-${tag}`, ns: nsName(`${vrrp[0]}${tag}`), address: `${SUBNET}.${i + 1}`, dir: join(dir, tag) }));
  const daemons: Daemon[] = [];
  try {
    // Network: a bridge in its own namespace (with a client address), one veth per load balancer, named `link` there.
    addNamespace(bridge);
    must(['ip', '-n', bridge, 'link', 'add', 'br0', 'type', 'bridge']);
    must(['ip', '-n', bridge, 'addr', 'add', `${SUBNET}.254/24`, 'dev', 'br0']);
    must(['ip', '-n', bridge, 'link', 'set', 'br0', 'up']);
    for (const [i, n] of nodes.entries()) {
      addNamespace(n.ns);
      must(['ip', '-n', bridge, 'link', 'add', `v${i}`, 'type', 'veth', 'peer', 'name', link, 'netns', n.ns]);
      must(['ip', '-n', bridge, 'link', 'set', `v${i}`, 'master', 'br0', 'up']);
      must(['ip', '-n', n.ns, 'addr', 'add', `${n.address}/24`, 'dev', link]);
      must(['ip', '-n', n.ns, 'link', 'set', link, 'up']);
    }
    // Both are control planes and load balancers, as in the runbook's cluster.
    const { hosts } = await compileDoc({
      cluster: { name: 'failover', kubernetesVersion: '1.34.2', podSubnet: '10.97.0.0/16', serviceSubnet: '10.96.0.0/16' },
      loadBalancer: { vip: VIP, port: PORT, ...(named ? { interface: link } : {}), virtualRouterId: 213, vrrp },
      hosts: [
        ...nodes.map((n) => ({ name: n.name, address: n.address, roles: ['control-plane', 'loadbalancer'] })),
        { name: 'etcd1', address: `${SUBNET}.31`, roles: ['etcd'] },
      ],
    });
    const tls = selfSignedCert(dir);
    const overlay = scriptUserOverlay(dir, SCRIPT_USER);
    for (const n of nodes) {
      // keepalived runs with the files run.sh installed in the node's namespace (keepalived.conf and the interface it wrote).
      n.keepalivedDir = installedKeepalivedDir(n.ns, hosts.get(n.name)!, join(n.dir, 'install'));
      assert.ok(readFileSync(join(n.keepalivedDir, 'kubeha-interface.conf'), 'utf8').endsWith(`\ninterface ${link}\n`));
      writeFileSync(join(n.dir, 'haproxy.cfg'), text(hosts, n.name, rootfs(LB_PATHS.haproxy)));
      daemons.push(startDaemon(`${n.name} api`, ['ip', 'netns', 'exec', n.ns, ...fakeApiServerArgv(n.address, 6443, tls)], join(n.dir, 'api.log')));
      n.haproxy = startHaproxy(n);
      daemons.push(n.haproxy);
    }
    const [a, b] = nodes as [Node, Node];
    const overHaproxy = (n: Node) => sh(['ip', 'netns', 'exec', n.ns, 'sh', join(n.keepalivedDir!, 'check_haproxy.sh')], 5000).status === 0;
    await waitUntil('both haproxy instances to serve /healthz', () => overHaproxy(a) && overHaproxy(b), 10_000);

    const start = performance.now();
    for (const n of nodes) {
      n.keepalived = startKeepalived(n, overlay);
      daemons.push(n.keepalived);
    }
    await waitUntil('the VIP on a node', () => holdsVip(a) || holdsVip(b), 15_000);
    const upMs = performance.now() - start;
    // With nopreempt every node starts as BACKUP: whoever's master-down timer ends first takes the VIP (the
    // priorities 150/149 differ by 4 ms of skew, less than the gap between starting two processes).
    const [first, second] = holdsVip(a) ? [a, b] : [b, a];
    assert.ok(holdsVip(first) && !holdsVip(second), 'exactly one node holds the VIP');
    const viaVip = () =>
      sh(['ip', 'netns', 'exec', bridge, 'curl', '-sfk', '--max-time', '2', '-o', '/dev/null', `https://${VIP}:${PORT}/healthz`], 5000).status === 0;
    await waitUntil('a client to reach the API through the VIP', viaVip, 5000);

    // 1. The holder's check fails: its haproxy stops (the generated check script then fails for real).
    let t0 = performance.now();
    await stopDaemon(first.haproxy!);
    await waitUntil("the VIP to move to the peer after the holder's check fails", () => holdsVip(second) && !holdsVip(first), 15_000);
    const checkMs = performance.now() - t0;
    assert.ok(viaVip(), 'clients reach the API through the peer');
    assert.match(readFileSync(first.keepalived!.log, 'utf8'), 'Entering FAULT STATE');

    // 2. The old holder recovers: it returns as BACKUP and, with nopreempt, leaves the VIP where it is (no second flap).
    first.haproxy = startHaproxy(first);
    daemons.push(first.haproxy);
    t0 = performance.now();
    await waitUntil(
      'the old holder back in BACKUP',
      () => readFileSync(first.keepalived!.log, 'utf8').split('Entering FAULT STATE').pop()!.includes('Entering BACKUP STATE'),
      15_000,
    );
    const recoverMs = performance.now() - t0;
    await sleep(4000);
    assert.ok(holdsVip(second) && !holdsVip(first), 'the VIP stays on the peer after the old holder recovers');

    // 3. The new holder's keepalived dies: kill the VRRP child first (a dying parent would still send a goodbye advert).
    const vrrpPid = Number(readFileSync(join(second.dir, 'vrrp.pid'), 'utf8').trim());
    assert.ok(vrrpPid > 1, 'the VRRP child wrote its pid file');
    // Stop the parent first so it cannot respawn the child, then kill both: nothing sends a goodbye advert.
    t0 = performance.now();
    second.keepalived!.child.kill('SIGSTOP');
    process.kill(vrrpPid, 'SIGKILL');
    second.keepalived!.child.kill('SIGKILL');
    await waitUntil("the VIP to move back after the new holder's keepalived is killed", () => holdsVip(first), 15_000);
    const killMs = performance.now() - t0;
    await waitUntil('a client to reach the API through the first node again', viaVip, 5000);

    console.log(
      `  ${vrrp} on ${link} (${named ? 'named in the inventory' : 'found by run.sh'}): VIP up ${(upMs / 1000).toFixed(2)} s after keepalived starts; moves ${(checkMs / 1000).toFixed(2)} s after the master's haproxy stops;` +
        ` the recovered node is BACKUP after ${(recoverMs / 1000).toFixed(2)} s and keeps out; moves ${(killMs / 1000).toFixed(2)} s after keepalived is killed`,
    );
    assert.ok(checkMs < 8000, `check failover within 2 × 2 s + skew, with margin (${checkMs} ms)`);
    assert.ok(killMs < 6000, `crash failover within 3 × advert_int + skew, with margin (${killMs} ms)`);
  } finally {
    for (const d of daemons.reverse()) await stopDaemon(d, 'SIGTERM', 3000);
    for (const n of nodes) killStrayVrrpChild(join(n.dir, 'vrrp.pid'));
    for (const n of nodes) deleteNamespace(n.ns);
    deleteNamespace(bridge);
    cleanup(dir);
  }
}

testNeeding(
  ['keepalived', 'haproxy', 'curl', NAMESPACES],
  'unicast VRRP (the default) on ens5, found by run.sh: the VIP comes up, moves on a failed check, stays put on recovery, moves when keepalived dies',
  async () => {
    await failoverScenario('unicast', 'ens5', false);
  },
);

testNeeding(['keepalived', 'haproxy', 'curl', NAMESPACES], 'multicast VRRP on eth0, named in the inventory: the same', async () => {
  await failoverScenario('multicast', 'eth0', true);
});

test.run();
