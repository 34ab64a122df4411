/**
 * npm run bench:picture: how long the picture of a cluster takes (gen plan --format svg, out/cluster.svg) for 3 etcd
 * members, 3 control planes and N workers: the drawing alone (in this process, median of many), and the whole
 * `gen plan --format svg` command (a new node process: start-up, reading and validating the inventory, drawing).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateInventory } from '../src/inventory/index.js';
import { buildModel } from '../src/model/model.js';
import { clusterSvg } from '../src/render/picture/index.js';
import { benchInventory } from './inventory.js';

const SIZES = (process.env.BENCH_SIZES ?? '0,48,1000,4000').split(',').map(Number);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 50);
const GEN = fileURLToPath(new URL('../src/cli/bin.js', import.meta.url));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median milliseconds of drawing an inventory's model, and the SVG's size. */
function drawing(text: string): { ms: number; bytes: number } {
  const result = validateInventory('bench.json', text);
  if (!result.inventory) throw new Error(result.errors.map((e) => `${e.pointer}: ${e.message}`).join('\n'));
  const model = buildModel(result.inventory);
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < REPEAT; i++) {
    const started = performance.now();
    bytes = clusterSvg(model).length;
    times.push(performance.now() - started);
  }
  return { ms: median(times), bytes };
}

/** Median milliseconds of the whole command `gen plan FILE --format svg` (5 runs). */
function command(file: string, out: string): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const r = spawnSync(process.execPath, [GEN, 'plan', file, '--format', 'svg', '--out', out], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`gen plan failed: ${r.stderr}`);
    times.push(performance.now() - started);
  }
  return median(times);
}

const dir = mkdtempSync(join(tmpdir(), 'kubeha-bench-picture-'));
try {
  console.log(`kubeha bench:picture: node ${process.version}; drawing: median of ${REPEAT}, command: median of 5`);
  console.log(['hosts', 'drawing ms', 'SVG bytes', 'gen plan --format svg ms'].map((c) => c.padStart(12)).join(' '));
  for (const workers of SIZES) {
    const file = join(dir, `inventory-${workers}.json`);
    const text = JSON.stringify(benchInventory(workers));
    writeFileSync(file, text);
    const d = drawing(text);
    const cells = [String(workers + 6), d.ms.toFixed(2), String(d.bytes), command(file, join(dir, 'out')).toFixed(0)];
    console.log(cells.map((c) => c.padStart(12)).join(' '));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
