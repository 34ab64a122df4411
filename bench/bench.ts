/** npm run bench: gen on 3 etcd + 3 control planes + N workers, first run and re-run, against the gzip floor. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GZIP_LEVEL } from '../src/bundle/tar.js';

const MEASURE = fileURLToPath(new URL('./measure.js', import.meta.url));
const SIZES = (process.env.BENCH_SIZES ?? '0,10,100,1000').split(',').map(Number);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

/** An inventory of 3 etcd members, 3 control planes (2 of them load balancers) and N workers. */
function inventory(workers: number) {
  const host = (name: string, i: number, roles: string[]) => ({ name, address: `10.${20 + Math.floor(i / 250)}.${i % 250}.${10 + (i % 200)}`, roles });
  return {
    cluster: { kubernetesVersion: '1.34.2', podSubnet: '10.128.0.0/12', serviceSubnet: '10.96.0.0/16' },
    loadBalancer: { vip: '10.19.0.100' },
    hosts: [
      ...[1, 2, 3].map((i) => ({ name: `etcd${i}`, address: `10.19.0.${i}`, roles: ['etcd'] })),
      ...[1, 2, 3].map((i) => ({ name: `cp${i}`, address: `10.19.0.${10 + i}`, roles: i < 3 ? ['control-plane', 'loadbalancer'] : ['control-plane'] })),
      ...Array.from({ length: workers }, (_, i) => host(`worker${i + 1}`, i, ['worker'])),
    ],
  };
}

interface Run { seconds: number; maxRssMb: number }

function gen(args: string[]): Run {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [MEASURE, ...args, '--quiet'], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`gen failed: ${r.stderr}`);
  const report = JSON.parse(r.stderr.trim().split('\n').pop()!);
  return { seconds, maxRssMb: report.maxRssKb / 1024 };
}

/** gzip over the same tar bytes the run wrote, at the same level: the floor no generator can beat. */
function gzipFloor(out: string): { seconds: number; bytes: number } {
  const tars = readdirSync(out).filter((n) => n.endsWith('.tar.gz')).map((n) => gunzipSync(readFileSync(join(out, n))));
  const best = Math.min(...Array.from({ length: 3 }, () => {
    const started = process.hrtime.bigint();
    for (const tar of tars) gzipSync(tar, { level: GZIP_LEVEL });
    return Number(process.hrtime.bigint() - started) / 1e9;
  }));
  return { seconds: best, bytes: tars.reduce((n, t) => n + t.length, 0) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number, digits = 3) => x.toFixed(digits);

console.log(`kubeha bench: node ${process.version}, ${cpus().length} x ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; median of ${REPEAT}`);
console.log('workers  hosts  first run s  re-run s  gzip floor s  first/floor  re-run/floor  peak MB (first/re-run)  ms/host (re-run)  marginal ms/host');
let baseline: number | null = null;
for (const workers of SIZES) {
  const firsts: Run[] = [];
  const reruns: Run[] = [];
  let floor = { seconds: 0, bytes: 0 };
  for (let i = 0; i < REPEAT; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'kubeha-bench-'));
    try {
      const file = join(dir, 'inventory.json');
      writeFileSync(file, JSON.stringify(inventory(workers)));
      const args = [file, '--out', join(dir, 'out'), '--secrets', join(dir, 'secrets')];
      firsts.push(gen(args));
      reruns.push(gen(args));
      floor = gzipFloor(join(dir, 'out'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const hosts = workers + 6;
  const first = median(firsts.map((r) => r.seconds));
  const rerun = median(reruns.map((r) => r.seconds));
  console.log([
    String(workers).padStart(7), String(hosts).padStart(6), fmt(first).padStart(12), fmt(rerun).padStart(9), fmt(floor.seconds).padStart(13),
    fmt(first / floor.seconds, 1).padStart(12), fmt(rerun / floor.seconds, 1).padStart(13),
    `${Math.max(...firsts.map((r) => r.maxRssMb)).toFixed(0)}/${Math.max(...reruns.map((r) => r.maxRssMb)).toFixed(0)}`.padStart(23),
    fmt((rerun * 1000) / hosts, 2).padStart(17),
    // Time per host beyond the fixed cost of a 3 + 3 cluster: flat when gen scales linearly.
    (baseline === null || workers === 0 ? '-' : fmt(((rerun - baseline) * 1000) / workers, 2)).padStart(17),
  ].join(' '));
  if (workers === 0) baseline = rerun;
}
