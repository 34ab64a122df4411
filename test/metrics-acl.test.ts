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
import { cleanup, compileDoc, NAMESPACES, tempDir, testNeeding, text, type InventoryDoc } from './helpers.js';
import { addNamespace, deleteNamespace, must, nsName, sh, startDaemon, stopDaemon, waitUntil, type Daemon } from './netns.js';

const rootfs = (path: string) => `rootfs${path}`;

/** The i-th address of a large cluster: odd last bytes only, so no two hosts share a block and every host is a pattern. */
const spread = (i: number) => `127.1.${Math.floor(i / 100)}.${(i % 100) * 2 + 1}`;

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

test('the metrics sources of a cluster are blocks: neighbouring hosts share one, the pod network stays one', async () => {
  const doc = bigCluster(6);
  doc.hosts = doc.hosts.map((h: { address: string }, i: number) => ({ ...h, address: `10.0.0.${i + 2}` }));
  const { hosts } = await compileDoc(doc);
  const cfg = text(hosts, 'h0', rootfs(LB_PATHS.haproxy));
  assert.match(cfg, '\n  acl cluster_sources src 10.0.0.2/31 10.0.0.4/30 10.128.0.0/14\n');
  assert.match(text(hosts, 'h2', rootfs(ETCD_METRICS_FILTER_PATHS.rules)), 'elements = { 10.0.0.2/31, 10.0.0.4/30, 10.128.0.0/14 }');
  assert.match(text(hosts, 'h5', rootfs(KUBE_PROXY_METRICS_FILTER_PATHS.rules)), 'elements = { 10.0.0.2/31, 10.0.0.4/30, 10.128.0.0/14, 127.0.0.1 }');
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
    assert.is(lines.length, 26, 'every host is a pattern of its own: 1 001 patterns, 40 a line');
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
    assert.is(lines[lines.length - 1], `  acl cluster_sources src ${last}`, 'the last host is alone on the last line');
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
