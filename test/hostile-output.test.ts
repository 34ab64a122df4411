/**
 * Fuzzing the previous output folder: hostile out/ folders (tarballs and SHA256SUMS cut short or with flipped bits,
 * links to /dev/zero, pipes and files outside, a gzip bomb, foreign tarballs, odd tar entries, folders in the way) are
 * fed to gen plan --out, gen diff, gen check and gen, each a child process bounded in time and address space. Each must
 * end with a clean message (exit 1 or 2, no stack trace, no "internal error") or, for gen, repair: exit 0 and every
 * file kubeha writes byte for byte what a clean run writes. Seeded: the seed is printed with any failure; set
 * KUBEHA_FUZZ_SEED to replay it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, REPO, ROOT, tempDir, testNeeding, walk } from './helpers.js';

const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');
/** Cases per run: enough to meet every mutation several times, few enough to keep the file well under a minute. */
const CASES = 24;
/** A run that takes longer hangs (a normal one takes well under a second). */
const TIMEOUT_MS = 20_000;
/** Address space of each run: a gzip bomb or /dev/zero read whole would exceed it and crash the run. */
const ADDRESS_SPACE = 2 * 1024 * 1024 * 1024;
const HOSTS = ['ceph1', 'ceph2', 'ceph3', 'worker1', 'worker2'];

/** mulberry32: a small seeded generator, the same cases for the same seed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]! };
}
type Random = ReturnType<typeof random>;

/** What every case starts from: a clean output, its secrets, and prepared hostile files. */
interface Setup {
  work: string;
  base: string;
  secrets: string;
  bomb: Buffer;
  foreign: Buffer;
  odd: Buffer[];
  outsideFile: string;
}

/** Builds a gzip bomb from many gzip members (each 64 MiB of zeros): some 1 GiB once unpacked, about 1 MiB packed. */
function gzipBomb(): Buffer {
  const member = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
  return Buffer.concat(Array.from({ length: 16 }, () => member));
}

/** worker2's bundle re-made by GNU tar with odd entries: links, a device, a pipe, a hard link, entries outside. */
function oddBundles(work: string, base: string): Buffer[] {
  const variants: ((host: string) => void)[] = [
    (host) => {
      rmSync(join(host, 'rootfs', 'etc', 'crictl.yaml'));
      symlinkSync('/etc/shadow', join(host, 'rootfs', 'etc', 'crictl.yaml'));
    },
    (host) => {
      execFileSync('mknod', [join(host, 'zero'), 'c', '1', '5']);
      execFileSync('mkfifo', [join(host, 'pipe')]);
      execFileSync('ln', [join(host, 'run.sh'), join(host, 'hard')]);
    },
    (host) => {
      rmSync(join(host, 'rootfs', 'etc'), { recursive: true });
      symlinkSync('/etc', join(host, 'rootfs', 'etc'));
      writeFileSync(join(host, 'name\x1b[2J\x9b'), 'content \x1b]0;title\x07\n');
    },
  ];
  return variants.map((change, i) => {
    const tree = join(work, `odd${i}`);
    mkdirSync(tree);
    execFileSync('tar', ['-xzf', join(base, 'worker2.tar.gz'), '-C', tree]);
    change(join(tree, 'worker2'));
    writeFileSync(join(tree, 'outside'), 'x\n');
    execFileSync('tar', ['--format=pax', '-P', '--transform=s,^outside$,../outside,', '-czf', join(tree, 'b.tgz'), '-C', tree, 'worker2', 'outside']);
    return readFileSync(join(tree, 'b.tgz'));
  });
}

async function prepare(): Promise<Setup> {
  const work = tempDir('kubeha-fuzz-');
  copyFileSync(join(REPO, 'examples', 'runbook.json'), join(work, 'inventory.json'));
  const base = join(work, 'base');
  const secrets = join(work, 'secrets');
  const made = await run(work, ['inventory.json', '--out', base, '--secrets', secrets, '--quiet']);
  assert.is(made.code, 0, made.err);
  const foreignTree = join(work, 'foreign');
  mkdirSync(join(foreignTree, 'photos'), { recursive: true });
  writeFileSync(join(foreignTree, 'photos', 'a.jpg'), 'not a bundle');
  execFileSync('tar', ['-czf', join(work, 'foreign.tgz'), '-C', foreignTree, 'photos']);
  const outsideFile = join(work, 'outside-secret.txt');
  writeFileSync(outsideFile, 'password: hunter2\n');
  return { work, base, secrets, bomb: gzipBomb(), foreign: readFileSync(join(work, 'foreign.tgz')), odd: oddBundles(work, base), outsideFile };
}

/** Runs gen as a child bounded in time and address space. */
function run(cwd: string, args: string[]): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('prlimit', [`--as=${ADDRESS_SPACE}`, 'node', BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
  });
}

/** Names in out/ a mutation may aim at. */
const TARGETS = [...HOSTS.map((h) => `${h}.tar.gz`), 'SHA256SUMS', 'ansible/site.yml', 'ansible/inventory.ini'];
const tarballOf = (r: Random) => `${r.pick(HOSTS)}.tar.gz`;

/** Each mutation changes out/ and says what it did. */
const MUTATIONS: ((out: string, r: Random, s: Setup) => string)[] = [
  (out, r) => cut(join(out, tarballOf(r)), r),
  (out, r) => cut(join(out, 'SHA256SUMS'), r),
  (out, r) => flipBits(join(out, r.pick([tarballOf(r), 'SHA256SUMS'])), r),
  (out, r) => changeTar(join(out, tarballOf(r)), r),
  (out, r) => replace(join(out, tarballOf(r)), Buffer.from(Array.from({ length: r.int(4000) }, () => r.int(256)))),
  (out, r, s) => replace(join(out, tarballOf(r)), s.bomb),
  (out, r, s) => replace(join(out, r.next() < 0.5 ? tarballOf(r) : 'photos.tar.gz'), s.foreign),
  (out, r, s) => replace(join(out, 'worker2.tar.gz'), r.pick(s.odd)),
  (out, r) => link(join(out, r.pick(TARGETS)), '/dev/zero'),
  (out, r, s) => link(join(out, r.pick(TARGETS)), s.outsideFile),
  (out, r) => pipe(join(out, r.pick(TARGETS))),
  (out, r) => folderInPlace(join(out, r.pick(TARGETS))),
  (out, r) => hostileSums(out, r),
  (out) => {
    rmSync(join(out, 'SHA256SUMS'));
    return 'SHA256SUMS removed';
  },
  (out, _r, s) => {
    rmSync(join(out, 'ansible'), { recursive: true });
    symlinkSync(s.work, join(out, 'ansible'));
    return 'ansible/ a link to a folder outside';
  },
];

/** The bytes of a regular file; null when an earlier mutation of the case made it something else (or removed it). */
function fileBytes(path: string): Buffer | null {
  return existsSync(path) && lstatSync(path).isFile() ? readFileSync(path) : null;
}

function cut(path: string, r: Random): string {
  const bytes = fileBytes(path);
  if (!bytes) return `${path} left (no file)`;
  const length = r.int(bytes.length);
  writeFileSync(path, bytes.subarray(0, length));
  return `${path} cut to ${length} of ${bytes.length} bytes`;
}

function flipBits(path: string, r: Random): string {
  const bytes = fileBytes(path);
  if (!bytes?.length) return `${path} left (no file)`;
  const at = Array.from({ length: 1 + r.int(8) }, () => r.int(bytes.length));
  for (const i of at) bytes[i] = bytes[i]! ^ (1 << r.int(8));
  writeFileSync(path, bytes);
  return `${path}: bits flipped at ${at.join(',')}`;
}

/** Changes the tar inside a tarball: cuts it, or sets header bytes and (half the time) fixes the checksum to match. */
function changeTar(path: string, r: Random): string {
  const gz = fileBytes(path);
  let tar: Buffer;
  try {
    tar = gunzipSync(gz ?? Buffer.alloc(0));
  } catch {
    return `${path} left (not a tarball any more)`;
  }
  if (r.next() < 0.3) {
    const length = r.int(tar.length);
    writeFileSync(path, gzipSync(tar.subarray(0, length)));
    return `${path}: tar cut to ${length} bytes`;
  }
  const block = 512 * r.int(Math.min(40, tar.length / 512));
  const at = block + r.pick([0, 99, 100, 124, 135, 156, 157, 257, 345, r.int(512)]);
  tar[at] = r.int(256);
  const fixed = r.next() < 0.5;
  if (fixed) {
    tar.fill(0x20, block + 148, block + 156);
    let sum = 0;
    for (let i = block; i < block + 512; i++) sum += tar[i]!;
    tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, block + 148, 'latin1');
  }
  writeFileSync(path, gzipSync(tar));
  return `${path}: tar byte ${at} set to ${tar[at]}${fixed ? ', checksum fixed' : ''}`;
}

function replace(path: string, bytes: Buffer): string {
  rmSync(path, { recursive: true, force: true });
  writeFileSync(path, bytes);
  return `${path} replaced by ${bytes.length} other bytes`;
}

function link(path: string, target: string): string {
  rmSync(path, { recursive: true, force: true });
  symlinkSync(target, path);
  return `${path} a link to ${target}`;
}

function pipe(path: string): string {
  rmSync(path, { recursive: true, force: true });
  execFileSync('mkfifo', [path]);
  return `${path} a named pipe`;
}

function folderInPlace(path: string): string {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(join(path, 'inside'), { recursive: true });
  return `${path} a folder`;
}

function hostileSums(out: string, r: Random): string {
  const names = ['../inventory.json', '/etc/passwd', 'ansible', '.', 'notes', 'notes/a', 'x\x1b[2J', `${'a'.repeat(5000)}.tar.gz`];
  mkdirSync(join(out, 'notes'), { recursive: true });
  writeFileSync(join(out, 'notes', 'a'), 'mine\n');
  const lines = Array.from({ length: 1 + r.int(6) }, () => `${'0'.repeat(64)}  ${r.pick(names)}\n`);
  const sums = fileBytes(join(out, 'SHA256SUMS'));
  if (!sums) return 'SHA256SUMS left (no file)';
  writeFileSync(join(out, 'SHA256SUMS'), sums.toString('utf8') + lines.join(''));
  return `SHA256SUMS with hostile lines: ${JSON.stringify(lines)}`;
}

/** What is in a folder, by lstat only (never reading a pipe): to see that a refused or read-only run changed nothing. */
function listing(dir: string): string[] {
  const list: string[] = [];
  const visit = (at: string, rel: string) => {
    for (const name of readdirSync(at).sort()) {
      const st = lstatSync(join(at, name));
      list.push(`${rel}${name} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) visit(join(at, name), `${rel}${name}/`);
    }
  };
  visit(dir, '');
  return list;
}

type Result = Awaited<ReturnType<typeof run>>;

/** A run ended by itself with a clean status and message: no timeout, no crash, no stack trace. */
function assertClean(r: Result, what: string): void {
  assert.is(r.signal, null, `${what}: killed (${r.signal}): a hang or a crash`);
  assert.ok(r.code === 0 || r.code === 1 || r.code === 2, `${what}: exit ${r.code}\n${r.err}`);
  assert.not.match(r.err, 'internal error', `${what}: ${r.err}`);
  assert.not.ok(/\n\s+at /.test(r.err), `${what}: a stack trace\n${r.err}`);
}

/** After gen exit 0: every file kubeha writes is byte for byte the clean run's, and nothing is left beside out/. */
function assertRepaired(s: Setup, out: string, what: string): void {
  for (const rel of walk(s.base)) {
    assert.ok(lstatSync(join(out, rel)).isFile(), `${what}: ${rel} is not a file`);
    assert.ok(readFileSync(join(out, rel)).equals(readFileSync(join(s.base, rel))), `${what}: ${rel} is not what gen writes`);
  }
  assert.not.ok(existsSync(`${out}.kubeha-new`) || existsSync(`${out}.kubeha-old`), `${what}: a staging folder was left`);
  assert.is(readFileSync(s.outsideFile, 'utf8'), 'password: hunter2\n', `${what}: the file outside was changed`);
}

/** One case: mutate a copy of the clean output, run the read-only commands (at once), then gen. */
async function oneCase(s: Setup, r: Random, index: number, label: string): Promise<void> {
  const out = join(s.work, `out${index}`);
  execFileSync('cp', ['-a', s.base, out]);
  const what = `${label} case ${index}: ${Array.from({ length: 1 + r.int(2) }, () => r.pick(MUTATIONS)(out, r, s)).join('; ')}`;
  const before = listing(out);
  const folders = ['--out', out, '--secrets', s.secrets];
  const readers = await Promise.all([
    run(s.work, ['plan', 'inventory.json', '--out', out]),
    run(s.work, ['diff', 'inventory.json', ...folders]),
    run(s.work, ['check', 'inventory.json', ...folders]),
  ]);
  for (const [i, res] of readers.entries()) assertClean(res, `${what}: ${['plan', 'diff', 'check'][i]}`);
  assert.equal(listing(out), before, `${what}: a read-only command changed out/`);
  const generated = await run(s.work, ['inventory.json', ...folders, '--quiet']);
  assertClean(generated, `${what}: gen`);
  if (generated.code === 0) assertRepaired(s, out, what);
  else assert.equal(listing(out), before, `${what}: a refused gen changed out/`);
  rmSync(out, { recursive: true, force: true });
}

testNeeding(
  ['tar', 'mknod', 'mkfifo', 'prlimit', ROOT],
  `hostile previous outputs (${CASES} seeded cases): a clean message or a repair, bounded in time and memory`,
  async () => {
    const seed = Number(process.env.KUBEHA_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const label = `seed ${seed} (replay: KUBEHA_FUZZ_SEED=${seed} node dist/test/hostile-output.test.js)`;
    const s = await prepare();
    const started = Date.now();
    try {
      const r = random(seed);
      for (let i = 0; i < CASES; i++) await oneCase(s, r, i, label);
      console.log(`  ${CASES} hostile outputs in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${seed})`);
    } finally {
      cleanup(s.work);
    }
  },
);

test.run();
