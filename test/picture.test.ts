/**
 * The picture of the cluster (gen plan --format svg|mermaid, out/cluster.svg): goldens of the SVG and the Mermaid text,
 * well-formed XML by xmllint, what it shows by literal texts, the CLI's forms and gen diff's words for a changed picture.
 * How it looks in a real browser is test/picture-browser.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { benchInventory } from '../bench/inventory.js';
import { clusterMermaid, clusterSvg } from '../src/render/picture/index.js';
import { clusterView } from '../src/render/picture/view.js';
import { describePictureChange } from '../src/review/picture-diff.js';
import { assertGolden } from './golden.js';
import { cleanup, FIXTURES, REPO, runCli, tempDir, testNeeding } from './helpers.js';
import { modelOfText, pictureCases } from './picture-cases.js';

const GOLDEN = join(FIXTURES, 'picture');
const cases = pictureCases();
const EXAMPLE = join(REPO, 'examples', 'runbook.json');

/** The texts an SVG draws, in document order (the tooltip of a collapsed count aside). */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
}

const count = (list: readonly string[], item: string) => list.filter((x) => x === item).length;

test('goldens: the SVG and the Mermaid text of every example, of mixed roles, of an outside load balancer and of 48 and 1000 workers, byte for byte', () => {
  assert.equal([...cases.keys()], ['air-gapped', 'ha-nftables', 'runbook', 'single-node', 'mixed', 'external-lb', 'workers-48', 'workers-1000']);
  for (const [name, model] of cases) {
    assertGolden(join(GOLDEN, `${name}.svg`), clusterSvg(model));
    assertGolden(join(GOLDEN, `${name}.mmd`), clusterMermaid(model));
  }
});

testNeeding(['xmllint'], 'every picture is well-formed XML (xmllint)', () => {
  const dir = tempDir();
  try {
    for (const [name, model] of cases) {
      writeFileSync(join(dir, `${name}.svg`), clusterSvg(model));
      const r = spawnSync('xmllint', ['--noout', join(dir, `${name}.svg`)], { encoding: 'utf8' });
      assert.is(r.status, 0, `${name}: ${r.stderr}`);
      assert.is(r.stderr, '', name);
    }
  } finally {
    cleanup(dir);
  }
});

test('runbook: one box a host whatever its roles, the VIP with its initial MASTER, haproxy → 6443, the etcd ring, the steps', () => {
  const svg = clusterSvg(cases.get('runbook')!);
  const drawn = texts(svg);
  for (const host of ['worker1', 'worker2', 'ceph1', 'ceph2', 'ceph3']) assert.is(count(drawn, host), 1, `${host} is drawn once`);
  assert.is(count(drawn, 'keepalived + haproxy'), 2);
  assert.is(count(drawn, 'kube-apiserver :6443'), 2);
  assert.is(count(drawn, 'etcd 3.5.27'), 3);
  assert.is(svg.match(/<g class="role control-plane">/g)?.length, 2);
  for (const text of [
    'VIP 10.0.8.100:16443',
    'keepalived VRRP unicast · router id 65',
    'MASTER',
    'BACKUP',
    'initial MASTER · priority 150',
    'BACKUP · priority 149',
    ':16443 → :6443',
    'haproxy → :6443',
    '→ etcd :2379',
    'peers :2380',
    'kubeadm init',
    'pods 10.97.0.0/16 · services 10.96.0.0/16 · DNS cluster.local',
    'containerd · kube-proxy nftables · flannel vxlan · etcd 3.5.27',
    'etcd members: ceph1, ceph2, ceph3',
    'first control plane (kubeadm init): worker1',
    'other control planes (kubeadm join --control-plane): worker2',
  ]) {
    assert.ok(drawn.includes(text), `draws "${text}"`);
  }
  assert.equal(clusterView(cases.get('runbook')!).endpoint.holders, [
    { host: 'worker1', label: 'MASTER' },
    { host: 'worker2', label: 'BACKUP' },
  ]);
  assert.match(svg, '<title id="kubeha-title">Cluster kubernetes</title>');
  assert.not.match(svg, /href|url\((?!#kubeha-arrow-)|@import|<image|<script|<foreignObject/, 'nothing from outside the document');
});

test('workers: 48 drawn one by one, more as one card with their count, the 1000-worker picture as small as the 49-worker one', () => {
  const svgOf = (workers: number) => clusterSvg(modelOfText('w.json', JSON.stringify(benchInventory(workers))));
  const drawn48 = texts(svgOf(48));
  assert.is(svgOf(48).match(/<g class="host worker">/g)?.length, 48);
  for (const name of ['worker1', 'worker24', 'worker48']) assert.is(count(drawn48, name), 1);
  assert.ok(drawn48.includes('48 workers · kubelet :10250 · kubeadm join via 10.19.0.100:16443'));
  for (const n of [49, 1000]) {
    const svg = svgOf(n);
    const drawn = texts(svg);
    assert.not.match(svg, '<g class="host worker">');
    assert.is(count(drawn, 'worker2'), 0, 'no worker is drawn on its own');
    assert.ok(drawn.includes(`${n} workers`) && drawn.includes(`worker1 … worker${n}`), `${n}: the count and the first and last names`);
    assert.ok(drawn.includes(`workers (kubeadm join): worker1, worker2, worker3, … worker${n} (${n} hosts)`));
    assert.match(svg, `<title>worker1, worker2, worker3, worker4, `, 'every name in the tooltip');
  }
  const overhead = svgOf(1000).length - svgOf(49).length;
  assert.ok(overhead < 12 * 1000, `1000 workers cost ${overhead} bytes more than 49: their names in the tooltip only`);
});

test('mixed roles: a load balancer in the etcd ring, etcd members that take pods, a control plane that takes pods; ports as given', () => {
  const view = clusterView(cases.get('mixed')!);
  assert.equal(
    view.columns.map((c) => [c.name, c.slots.map((s) => s.role)]),
    [
      ['edge1', ['loadbalancer', 'etcd']],
      ['edge2', ['loadbalancer']],
      ['cp1', ['control-plane', 'worker']],
      ['store1', ['etcd', 'worker']],
      ['store2', ['etcd', 'worker']],
    ],
  );
  assert.equal(view.workers?.names, ['w1']);
  const drawn = texts(clusterSvg(cases.get('mixed')!));
  for (const text of [
    'VIP 10.1.0.100:8443',
    'keepalived VRRP multicast · router id 7',
    'docker + cri-dockerd · kube-proxy nftables · flannel host-gw · etcd 3.5.27',
    'client :12379',
    'peer :12380',
    '→ etcd :12379',
    'peers :12380',
    ':8443 → :6443',
  ]) {
    assert.ok(drawn.includes(text), `draws "${text}"`);
  }
  assert.equal(view.ports, [
    '8443/tcp VIP → haproxy',
    'VRRP (IP protocol 112) between load balancers',
    '6443/tcp kube-apiserver',
    '12379/tcp etcd client',
    '12380/tcp etcd peer',
    '10250/tcp kubelet',
  ]);
});

test('one control plane, no load balancer: the endpoint is its API server, no VIP is drawn', () => {
  const drawn = texts(clusterSvg(cases.get('single-node')!));
  assert.ok(drawn.includes('API 192.168.56.10:6443') && drawn.includes('one control plane, no VIP'));
  assert.is(count(drawn, 'lab1'), 1);
  assert.not.ok(drawn.some((t) => t.startsWith('VIP')));
});

test('a VIP no host holds (a load balancer outside the inventory): drawn in front of every API server, no keepalived', () => {
  const model = cases.get('external-lb')!;
  const drawn = texts(clusterSvg(model));
  for (const text of ['VIP 10.2.0.100:16443', 'api.outside.example → VIP', 'served by a load balancer outside this inventory']) {
    assert.ok(drawn.includes(text), `draws "${text}"`);
  }
  assert.is(count(drawn, ':6443'), 3, 'an arrow a control plane');
  assert.not.ok(drawn.includes('keepalived + haproxy') || drawn.some((t) => t.startsWith('keepalived VRRP')));
  assert.match(clusterMermaid(model), '  endpoint ==>|:6443| h2_cp\n');
  assert.equal(clusterView(model).ports, [
    '6443/tcp kube-apiserver',
    '2379/tcp etcd client',
    '2380/tcp etcd peer',
    '10250/tcp kubelet',
    '8472/udp flannel vxlan',
  ]);
});

test('Mermaid: a subgraph a host, the links through two hubs, the ring closed, the rollout as a chain', () => {
  const text = clusterMermaid(cases.get('runbook')!);
  for (const line of [
    'flowchart TB',
    '  endpoint(["VIP 10.0.8.100:16443<br/>keepalived VRRP unicast · router id 65"])',
    '  subgraph h0["2. worker1 10.0.8.6"]',
    '  endpoint ==>|MASTER| h0_lb',
    '  endpoint -.->|BACKUP| h1_lb',
    '  to_api --> h1_cp',
    '  h4_etcd <-.->|peers :2380| h2_etcd',
    '    step1 --> step2 --> step3',
  ]) {
    assert.ok(text.split('\n').includes(line), `has the line ${JSON.stringify(line)}`);
  }
});

test('gen plan --format svg prints what gen writes as out/cluster.svg; mermaid and text (the default) too', async () => {
  const work = tempDir();
  try {
    const svg = await runCli(['plan', EXAMPLE, '--format', 'svg', '--out', join(work, 'out')]);
    assert.is(svg.code, 0, svg.err);
    assert.is(svg.out, readFileSync(join(GOLDEN, 'runbook.svg'), 'utf8'));
    const generated = await runCli([EXAMPLE, '--out', join(work, 'out'), '--secrets', join(work, 'secrets'), '--quiet']);
    assert.is(generated.code, 0, generated.err);
    assert.is(readFileSync(join(work, 'out', 'cluster.svg'), 'utf8'), svg.out);
    assert.match(readFileSync(join(work, 'out', 'SHA256SUMS'), 'utf8'), /^[0-9a-f]{64} {2}cluster\.svg$/m);
    assert.is((await runCli(['plan', EXAMPLE, '--format', 'mermaid'])).out, readFileSync(join(GOLDEN, 'runbook.mmd'), 'utf8'));
    assert.is((await runCli(['plan', EXAMPLE, '--format', 'text'])).out, (await runCli(['plan', EXAMPLE])).out);
    assert.is((await runCli(['check', EXAMPLE, '--out', join(work, 'out'), '--secrets', join(work, 'secrets')])).code, 0);
    writeFileSync(join(work, 'out', 'cluster.svg'), '<svg/>');
    const stale = await runCli(['check', EXAMPLE, '--out', join(work, 'out'), '--secrets', join(work, 'secrets')]);
    assert.is(stale.code, 1);
    assert.match(stale.err, '  cluster.svg: differs\n');
  } finally {
    cleanup(work);
  }
});

test('--format: only with plan, only text, svg or mermaid, not with --json (exit 2)', async () => {
  for (const [args, message] of [
    [['plan', EXAMPLE, '--format', 'png'], 'gen: --format takes text, svg, mermaid, not png'],
    [['plan', EXAMPLE, '--format', 'svg', '--json'], 'gen: --json and --format: choose one'],
    [['validate', EXAMPLE, '--format', 'svg'], 'gen: --format goes with gen plan'],
    [[EXAMPLE, '--format', 'svg'], 'gen: --format goes with gen plan'],
  ] as const) {
    const r = await runCli([...args]);
    assert.is(r.code, 2, args.join(' '));
    assert.is(r.err.split('\n')[0], message);
  }
});

test('gen diff says how the picture changes when a worker is added, in its texts', async () => {
  const work = tempDir();
  try {
    const folders = ['--out', join(work, 'out'), '--secrets', join(work, 'secrets')];
    assert.is((await runCli([EXAMPLE, ...folders, '--quiet'])).code, 0);
    const grown = JSON.parse(readFileSync(EXAMPLE, 'utf8'));
    grown.hosts.push({ name: 'worker3', address: '10.0.8.21', roles: ['worker'] });
    writeFileSync(join(work, 'grown.json'), JSON.stringify(grown));
    const diff = await runCli(['diff', join(work, 'grown.json'), ...folders]);
    assert.is(diff.code, 0, diff.err);
    const block = diff.out
      .slice(diff.out.indexOf(`${join(work, 'out')}/cluster.svg: changed`))
      .split('\n')
      .slice(0, 9);
    assert.equal(block, [
      `${join(work, 'out')}/cluster.svg: changed`,
      '  ~ cluster.svg',
      '    the picture changes:',
      '    + 1 worker · kubelet :10250 · kubeadm join via 10.0.8.100:16443',
      '    + worker3',
      '    + 10.0.8.21',
      '    + workers',
      '    + workers (kubeadm join): worker3',
      'worker1: changed',
    ]);
    const same = await runCli(['diff', EXAMPLE, ...folders]);
    assert.not.match(same.out, 'cluster.svg');
  } finally {
    cleanup(work);
  }
});

test('describePictureChange: texts removed then added, counted; the same texts moved is a change of the drawing', () => {
  const svg = (...t: string[]) => `<svg>${t.map((x, i) => `<text x="${i}">${x}</text>`).join('')}</svg>`;
  assert.is(describePictureChange(svg('a', 'b', 'b', '3'), svg('b', 'c &amp; d', '4')), 'the picture changes:\n- a\n- b\n+ c & d');
  assert.is(describePictureChange(svg('a'), svg('a').replace('x="0"', 'x="5"')), 'the drawing changes (the same texts, placed or drawn differently)');
});

test('the README opens with the picture of examples/runbook.json as gen makes it today (docs/cluster.svg)', () => {
  assert.is(
    readFileSync(join(REPO, 'docs', 'cluster.svg'), 'utf8'),
    clusterSvg(cases.get('runbook')!),
    'run: npm run gen -- plan examples/runbook.json --format svg > docs/cluster.svg',
  );
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8').split('\n');
  const at = readme.findIndex((l) => l.includes('src="docs/cluster.svg"'));
  assert.ok(at >= 0 && at < 15, `the README shows docs/cluster.svg in its first lines (line ${at + 1})`);
});

test.run();
