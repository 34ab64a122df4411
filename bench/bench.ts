/**
 * npm run bench: gen on 3 etcd + 3 control planes + N workers (a first run making every secret, then a re-run), each
 * next to the physical floor measured in the same run on the same output (bench/floor.ts), on the working disk and
 * on a tmpfs. Runs of the places and sizes are interleaved so that load from elsewhere hits them alike.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GZIP_LEVEL } from '../src/bundle/tar.js';
import { measureFloor, type Floor } from './floor.js';
import { benchInventory } from './inventory.js';
import { diskPlace, tmpfsPlace, type Place } from './places.js';

const MEASURE = fileURLToPath(new URL('./measure.js', import.meta.url));
const SIZES = (process.env.BENCH_SIZES ?? '0,100,1000').split(',').map(Number);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const PLACES = (process.env.BENCH_FS ?? 'disk,tmpfs').split(',');

interface Run {
  seconds: number;
  cpu: number;
  maxRssMb: number;
}
interface Sample {
  first: Run;
  rerun: Run;
  floor: Floor;
}

function gen(args: string[]): Run {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [MEASURE, ...args, '--quiet'], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`gen failed: ${r.stderr}`);
  const report = JSON.parse(r.stderr.trim().split('\n').pop()!);
  return { seconds, cpu: report.cpuSeconds, maxRssMb: report.maxRssKb / 1024 };
}

/** One first run and one re-run of gen in a fresh folder under `root`, then the floor on what they wrote. */
function sample(root: string, workers: number): Sample {
  const dir = mkdtempSync(join(root, 'run-'));
  try {
    const file = join(dir, 'inventory.json');
    writeFileSync(file, JSON.stringify(benchInventory(workers)));
    const args = [file, '--out', join(dir, 'out'), '--secrets', join(dir, 'secrets')];
    const first = gen(args);
    const rerun = gen(args);
    return { first, rerun, floor: measureFloor(join(dir, 'out')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = (x: number) => x.toFixed(3);
const x1 = (x: number) => x.toFixed(1);

const COLUMNS: [string, number][] = [
  ['fs', 13],
  ['hosts', 6],
  ['floor first/re-run s', 21],
  ['(gzip s)', 9],
  ['first s', 8],
  ['×floor', 7],
  ['re-run s', 9],
  ['×floor', 7],
  ['re-run CPU s', 13],
  ['×CPU floor', 11],
  ['peak MB', 8],
];

/** One table row: medians over the samples; ratios are medians of each sample's own ratio. */
function row(label: string, workers: number, samples: Sample[]): string {
  const m = (f: (x: Sample) => number) => median(samples.map(f));
  const floorFirst = (x: Sample) => x.floor.gzip + x.floor.writeFirst;
  const floorRerun = (x: Sample) => x.floor.gzip + x.floor.writeRerun;
  const small = workers === 0; // a 3 + 3 cluster's floor is a few ms: its ratios say nothing
  const ratio = (f: (x: Sample) => number) => (small ? '-' : x1(m(f)));
  const cells = [
    label,
    String(workers + 6),
    `${s(m(floorFirst))}/${s(m(floorRerun))}`,
    s(m((x) => x.floor.gzip)),
    s(m((x) => x.first.seconds)),
    ratio((x) => x.first.seconds / floorFirst(x)),
    s(m((x) => x.rerun.seconds)),
    ratio((x) => x.rerun.seconds / floorRerun(x)),
    s(m((x) => x.rerun.cpu)),
    ratio((x) => x.rerun.cpu / (x.floor.cpuGzip + x.floor.cpuWriteRerun)),
    Math.max(...samples.flatMap((x) => [x.first.maxRssMb, x.rerun.maxRssMb])).toFixed(0),
  ];
  return cells.map((c, i) => c.padStart(COLUMNS[i]![1])).join(' ');
}

function openPlaces(): Place[] {
  const places: Place[] = [];
  for (const name of PLACES) {
    const place = name === 'tmpfs' ? tmpfsPlace() : diskPlace(process.env.BENCH_DIR ?? process.cwd());
    if (typeof place === 'string') console.log(place);
    else places.push(place);
  }
  return places;
}

const cpu = cpus()[0]?.model.trim();
console.log(
  `kubeha bench: node ${process.version}, ${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${loadavg()[0]!.toFixed(1)}; median of ${REPEAT}`,
);
console.log(
  `floor: gzip -${GZIP_LEVEL} over the same tar bytes (one thread) + writing the same files the same way (staged, renamed in; re-run: old folder removed)`,
);
const places = openPlaces();
try {
  console.log(COLUMNS.map(([name, width]) => name.padStart(width)).join(' '));
  for (const workers of SIZES) {
    const samples = places.map(() => [] as Sample[]);
    for (let i = 0; i < REPEAT; i++) {
      for (const [j, p] of places.entries()) samples[j]!.push(sample(p.dir, workers));
    }
    for (const [j, p] of places.entries()) console.log(row(p.label, workers, samples[j]!));
  }
} finally {
  for (const p of places) p.release();
}
console.log(`load average at the end ${loadavg()[0]!.toFixed(1)}`);
