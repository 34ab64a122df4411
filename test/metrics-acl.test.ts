/**
 * Metrics allow-lists at any cluster size (issue 27 item 1): haproxy refuses a line of more than 64 words, and the
 * metrics ACL listed every host on one line. The sources are now the fewest CIDR blocks (Python's ipaddress module is
 * the independent oracle) on as many acl lines as needed; the real haproxy -c and nft -c accept them at 1 000 hosts, and
 * a live haproxy lets a host of the last line scrape.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { collapseAddresses } from '../src/common/cidr.js';
import { ETCD_METRICS_FILTER_PATHS } from '../src/render/etcd-metrics.js';
import { KUBE_PROXY_METRICS_FILTER_PATHS } from '../src/render/kube-proxy-metrics.js';
import { LB_PATHS } from '../src/render/loadbalancer.js';
import { validateInventory } from '../src/inventory/index.js';
import { cleanup, compileDoc, NAMESPACES, tempDir, testNeeding, text, type InventoryDoc } from './helpers.js';
import { addNamespace, deleteNamespace, must, nsName, sh, startDaemon, stopDaemon, waitUntil, type Daemon } from './netns.js';

const rootfs = (path: string) => `rootfs${path}`;

/**
 * The i-th address of a large cluster: each host in a /24 of its own (the default node networks), every other /24 only,
 * so no two hosts' networks merge into one block and every host is a pattern.
 */
const spread = (i: number) => `127.${1 + Math.floor(i / 128)}.${(i % 128) * 2}.1`;
/** The /24 of a host, as the allow-lists write it. */
const net24 = (address: string) => `${address.split('.').slice(0, 3).join('.')}.0/24`;

/** `count` hosts: two control planes that are load balancers, three etcd members, workers; kube-prometheus on. */
function bigCluster(count: number): InventoryDoc {
  const roles = (i: number) => (i < 2 ? ['control-plane', 'loadbalancer'] : i < 5 ? ['etcd'] : ['worker']);
  return {
    // 1 024 node ranges of /24 for up to 1 000 nodes.
    cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.128.0.0/14' },
    loadBalancer: { vip: '127.0.0.100' },
    addons: { kubePrometheus: { enabled: true, sha256: 'ab'.repeat(32) } },
    hosts: Array.from({ length: count }, (_, i) => ({ name: `h${i}`, address: spread(i), roles: roles(i) })),
  };
}

/** The 1 000-host cluster, compiled once for the tests that need it. */
let big: ReturnType<typeof compileDoc> | undefined;
const bigCompiled = () => (big ??= compileDoc(bigCluster(1000)));

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What Python's ipaddress.collapse_addresses makes of each list (one list per line, addresses as Python writes them). */
function pythonCollapse(lists: string[][]): string[][] {
  const program =
    'import ipaddress, json, sys\n' +
    'for items in json.load(sys.stdin):\n' +
    '    nets = ipaddress.collapse_addresses(ipaddress.ip_network(i, strict=False) for i in items)\n' +
    '    print(" ".join(str(n.network_address) if n.prefixlen == 32 else str(n) for n in nets))\n';
  const r = spawnSync('python3', ['-c', program], { input: JSON.stringify(lists), encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return r.stdout
    .trimEnd()
    .split('\n')
    .map((l) => (l === '' ? [] : l.split(' ')));
}

testNeeding(['python3'], "collapseAddresses: the same blocks as Python's ipaddress.collapse_addresses (500 random sets, seed 27)", () => {
  const next = random(27);
  const int = (n: number) => Math.floor(next() * n);
  const lists = Array.from({ length: 500 }, () =>
    Array.from({ length: 1 + int(60) }, () => {
      // Mostly addresses in one /22 (so neighbours merge), some blocks, some anywhere, the ends of the space.
      const kind = int(10);
      if (kind === 0) return int(2) ? '0.0.0.0' : '255.255.255.255';
      if (kind === 1) return `${int(256)}.${int(256)}.${int(256)}.${int(256)}/${8 + int(25)}`;
      if (kind === 2) return `${int(256)}.${int(256)}.${int(256)}.${int(256)}`;
      return `10.1.${int(4)}.${int(256)}`;
    }),
  );
  const python = pythonCollapse(lists);
  for (const [i, list] of lists.entries()) assert.equal(collapseAddresses(list), python[i], JSON.stringify(list));
  assert.equal(collapseAddresses(['0.0.0.0/0', '10.0.0.1']), ['0.0.0.0/0']);
});

test('the metrics sources of a cluster are blocks: the hosts of one /24 are one, neighbouring /24s merge, the pod network stays one', async () => {
  const doc = bigCluster(6);
  doc.hosts = doc.hosts.map((h: { address: string }, i: number) => ({ ...h, address: i < 5 ? `10.0.0.${i + 2}` : '10.0.1.9' }));
  const { hosts } = await compileDoc(doc);
  const cfg = text(hosts, 'h0', rootfs(LB_PATHS.haproxy));
  assert.match(cfg, '\n  acl cluster_sources src 10.0.0.0/23 10.128.0.0/14\n');
  assert.match(text(hosts, 'h2', rootfs(ETCD_METRICS_FILTER_PATHS.rules)), 'elements = { 10.0.0.0/23, 10.128.0.0/14 }');
  assert.match(text(hosts, 'h5', rootfs(KUBE_PROXY_METRICS_FILTER_PATHS.rules)), 'elements = { 10.0.0.0/23, 10.128.0.0/14, 127.0.0.1 }');
});

/** The files of every host but `except` that differ between two compiles, as `host path` lines. */
function changedFiles(before: Map<string, Map<string, { bytes: Buffer }>>, after: Map<string, Map<string, { bytes: Buffer }>>, except: string): string[] {
  const changed: string[] = [];
  for (const [host, files] of before) {
    if (host === except) continue;
    const now = after.get(host)!;
    for (const path of new Set([...files.keys(), ...now.keys()]))
      if (!files.get(path)?.bytes.equals(now.get(path)?.bytes ?? Buffer.alloc(0))) changed.push(`${host} ${path}`);
  }
  return changed;
}

test("with the addon, adding a worker in a /24 the cluster has changes no other host's bundle; in a new /24, only the lists gain it; nodeNetworks keeps them still", async () => {
  const doc = bigCluster(6);
  doc.hosts = doc.hosts.map((h: { address: string }, i: number) => ({ ...h, address: `10.0.0.${i + 2}` }));
  const first = await compileDoc(doc);
  const plus = (address: string, more: object = {}) => ({ ...doc, ...more, hosts: [...doc.hosts, { name: 'w9', address, roles: ['worker'] }] });
  const same24 = await compileDoc(plus('10.0.0.200'), first.secrets);
  assert.equal(changedFiles(first.hosts, same24.hosts, 'w9'), [], 'the README promises: only the new worker bundle');
  const new24 = await compileDoc(plus('10.0.7.20'), first.secrets);
  const changed = changedFiles(first.hosts, new24.hosts, 'w9');
  assert.ok(changed.length > 0);
  assert.ok(
    changed.every((c) => /rootfs\/etc\/(haproxy\/haproxy\.cfg|kubeha\/[a-z-]+-metrics\.nft)$|SHA256SUMS$/.test(c)),
    changed.join('\n'),
  );
  assert.match(text(new24.hosts, 'h0', rootfs(LB_PATHS.haproxy)), '\n  acl cluster_sources src 10.0.0.0/24 10.0.7.0/24 10.128.0.0/14\n');
  // The node networks given: the lists are those networks and the pod network, whatever the workers' addresses.
  const networks = { cluster: { ...doc.cluster, nodeNetworks: ['10.0.0.0/21'] } };
  const stated = await compileDoc({ ...doc, ...networks }, first.secrets);
  const elsewhere = await compileDoc(plus('10.0.7.20', networks), first.secrets);
  assert.equal(changedFiles(stated.hosts, elsewhere.hosts, 'w9'), []);
  assert.match(text(stated.hosts, 'h2', rootfs(ETCD_METRICS_FILTER_PATHS.rules)), 'elements = { 10.0.0.0/21, 10.128.0.0/14 }');
});

test('nodeNetworks must hold every host, be network addresses and stay clear of the pod and service ranges', () => {
  const doc = bigCluster(6);
  doc.hosts = doc.hosts.map((h: { address: string }, i: number) => ({ ...h, address: `10.0.0.${i + 2}` }));
  doc.cluster.nodeNetworks = ['10.0.0.0/30', '10.0.1.5/24', '10.128.0.0/16'];
  const errors = validateInventory('inventory.json', JSON.stringify(doc)).errors.map((p) => `${p.pointer}: ${p.message}`);
  assert.equal(errors, [
    '/cluster/nodeNetworks/1: 10.0.1.5/24 has host bits set: did you mean 10.0.1.0/24?',
    '/cluster/nodeNetworks/2: 10.128.0.0/16 overlaps the pod subnet 10.128.0.0/14',
    '/hosts/2/address: 10.0.0.4 lies in none of cluster.nodeNetworks (10.0.0.0/30, 10.0.1.5/24, 10.128.0.0/16): add its network there',
    '/hosts/3/address: 10.0.0.5 lies in none of cluster.nodeNetworks (10.0.0.0/30, 10.0.1.5/24, 10.128.0.0/16): add its network there',
    '/hosts/4/address: 10.0.0.6 lies in none of cluster.nodeNetworks (10.0.0.0/30, 10.0.1.5/24, 10.128.0.0/16): add its network there',
    '/hosts/5/address: 10.0.0.7 lies in none of cluster.nodeNetworks (10.0.0.0/30, 10.0.1.5/24, 10.128.0.0/16): add its network there',
  ]);
});

testNeeding(['haproxy', 'nft', NAMESPACES], 'at 1 000 hosts: haproxy -c accepts haproxy.cfg, nft -c both metrics filters', async () => {
  const { hosts } = await bigCompiled();
  const dir = tempDir();
  try {
    const cfg = text(hosts, 'h1', rootfs(LB_PATHS.haproxy));
    writeFileSync(join(dir, 'haproxy.cfg'), cfg);
    const r = sh(['haproxy', '-c', '-f', join(dir, 'haproxy.cfg')]);
    assert.is(r.status, 0, r.out.slice(0, 2000));
    assert.not.match(r.out, /WARNING|ALERT/, r.out);
    const lines = cfg.split('\n').filter((l) => l.startsWith('  acl cluster_sources src '));
    assert.is(lines.length, 26, "every host's /24 is a pattern of its own: 1 001 patterns, 40 a line");
    assert.ok(
      lines.every((l) => l.trim().split(/\s+/).length <= 64),
      'haproxy reads at most 64 words a line',
    );
    for (const [host, path] of [
      ['h3', ETCD_METRICS_FILTER_PATHS.rules],
      ['h999', KUBE_PROXY_METRICS_FILTER_PATHS.rules],
    ] as const) {
      writeFileSync(join(dir, 'rules.nft'), text(hosts, host, rootfs(path)));
      const nft = sh(['unshare', '-n', 'nft', '-c', '-f', join(dir, 'rules.nft')]);
      assert.is(nft.status, 0, `${host} ${path}: ${nft.out}`);
    }
  } finally {
    cleanup(dir);
  }
});

testNeeding(['haproxy', 'curl', NAMESPACES], 'live at 1 000 hosts: a host of the last acl line scrapes /metrics, a stranger gets 403', async () => {
  const ns = nsName('acl');
  const inNs = (...args: string[]) => ['ip', 'netns', 'exec', ns, ...args];
  const dir = tempDir();
  let haproxy: Daemon | null = null;
  try {
    addNamespace(ns);
    const last = spread(999);
    const outsider = '127.1.9.200';
    for (const address of [spread(0), last, outsider]) must(inNs('ip', 'addr', 'add', `${address}/32`, 'dev', 'lo'));
    const { model, hosts } = await bigCompiled();
    const cfg = text(hosts, 'h0', rootfs(LB_PATHS.haproxy));
    const lines = cfg.split('\n').filter((l) => l.startsWith('  acl cluster_sources src '));
    assert.is(lines[lines.length - 1], `  acl cluster_sources src ${net24(last)}`, "the last host's network is alone on the last line");
    writeFileSync(join(dir, 'haproxy.cfg'), cfg);
    haproxy = startDaemon('haproxy', inNs('haproxy', '-db', '-f', join(dir, 'haproxy.cfg')), join(dir, 'haproxy.log'));
    const url = `http://${spread(0)}:${model.loadBalancer!.metricsPort}/metrics`;
    const get = (from: string) => sh(inNs('curl', '-s', '-o', '/dev/null', '--max-time', '2', '--interface', from, '-w', '%{http_code}', url)).out;
    await waitUntil('haproxy to answer on its metrics port', () => get(last) === '200', 10_000);
    assert.is(get(outsider), '403', 'a source outside the cluster is refused');
  } finally {
    if (haproxy) await stopDaemon(haproxy, 'SIGKILL');
    deleteNamespace(ns);
    cleanup(dir);
  }
});

test.run();
