/** Lock files as they really go wrong: each refusal says the real reason in words, never a raw errno, never a hang. */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readSteady } from '../src/cli/lock.js';
import { FolderError } from '../src/cli/folder-error.js';
import { processAlive, realMachine } from '../src/cli/machine.js';
import { cleanup, REPO, ROOT, runCli, tempDir, testMachine, testNeeding } from './helpers.js';
import { withTmpfs } from './mounts.js';

const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');

/** Runs the real gen in `cwd` with a time limit (a read of a pipe would hang for ever). */
function gen(cwd: string, args: string[]) {
  const r = spawnSync('node', [BIN, ...args], { cwd, encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
  return { code: r.status, err: r.stderr, out: r.stdout, signal: r.signal };
}

function setup(): string {
  const work = tempDir();
  writeFileSync(join(work, 'inventory.json'), readFileSync(join(REPO, 'examples', 'runbook.json')));
  return work;
}

test('a lock that is not a lock kubeha wrote (a pipe, a folder, a link, text) is refused naming what it is; a pipe is never opened', () => {
  const work = setup();
  try {
    const lock = join(work, 'out.lock');
    // gen runs in `work` with the default folders: messages name them as given (out, out.lock).
    const cases: [() => void, string][] = [
      [() => execFileSync('mkfifo', [lock]), "output: out.lock is in the way of gen's lock for out: it is a named pipe, not a lock file"],
      [() => mkdirSync(lock), 'it is a folder, not a lock file'],
      [() => symlinkSync('/nowhere/at/all', lock), 'it is a link to /nowhere/at/all, not a lock file'],
      [() => writeFileSync(lock, 'hello\x1b[2J\n'), 'it holds "hello\\x1b[2J\\x0a", not a pid and host name as gen writes them'],
    ];
    for (const [make, message] of cases) {
      execFileSync('rm', ['-rf', lock]);
      make();
      const r = gen(work, ['inventory.json']);
      assert.is(r.signal, null, `gen ended by itself: ${message}`);
      assert.is(r.code, 1, r.err);
      assert.match(r.err, message);
      assert.match(r.err, 'if no gen is running, delete out.lock\nNothing was written.\n');
      assert.not.match(r.err, 'another gen');
      assert.not.match(r.err, '\x1b', 'no escape sequence reaches the terminal');
      assert.equal(readdirSync(work).sort(), ['inventory.json', 'out.lock'], 'nothing was written');
    }
  } finally {
    cleanup(work);
  }
});

test('a lock naming a live pid that is no gen (the pid was reused) says which program has it', async () => {
  const work = setup();
  const sleeper = spawn('sleep', ['60']);
  try {
    writeFileSync(join(work, 'secrets.lock'), `${sleeper.pid} ${hostname()}\n`);
    const r = gen(work, ['inventory.json']);
    assert.is(r.code, 1);
    assert.match(
      r.err,
      `secrets: secrets.lock names pid ${sleeper.pid}, which now runs sleep, not gen (the pid was reused after a gen was killed); if no gen is running, delete secrets.lock`,
    );
  } finally {
    sleeper.kill('SIGKILL');
    cleanup(work);
  }
});

testNeeding([ROOT], 'a lock that cannot be created (a read-only file system) is refused in words, not a raw errno', async () => {
  const work = setup();
  try {
    await withTmpfs(
      join(work, 'ro'),
      '1m',
      () => {
        const r = gen(work, ['inventory.json', '--out', 'ro/out', '--secrets', 'secrets']);
        assert.is(r.code, 1, r.err);
        assert.match(r.err, "output: ro/out.lock: cannot create gen's lock for ro/out: the file system is read-only (EROFS)");
        assert.not.match(r.err, 'internal error');
        assert.not.ok(existsSync(join(work, 'secrets')), 'no secrets were made');
      },
      true,
    );
  } finally {
    cleanup(work);
  }
});

test('read-only commands never read a folder halfway through a live gen: they say a gen is writing it', () => {
  const work = setup();
  try {
    assert.is(gen(work, ['inventory.json', '--quiet']).code, 0);
    // A gen (this test's own process stands in for it) between the two renames of both swaps: the folders moved
    // aside, the new copies staged, the locks held.
    for (const dir of ['out', 'secrets']) {
      execFileSync('mv', [join(work, dir), join(work, `${dir}.kubeha-old`)]);
      execFileSync('cp', ['-a', join(work, `${dir}.kubeha-old`), join(work, `${dir}.kubeha-new`)]);
      writeFileSync(join(work, `${dir}.lock`), `${process.pid} ${hostname()}\n`);
    }
    for (const [args, dir] of [
      [['plan', 'inventory.json'], 'out'],
      [['diff', 'inventory.json'], 'out'],
      [['check', 'inventory.json'], 'out'],
      [['certs'], 'secrets'],
    ] as const) {
      const r = gen(work, [...args]);
      assert.is(r.code, 1, `${args.join(' ')}: ${r.out}`);
      assert.match(r.err, `${dir}: a gen (pid ${process.pid}) is writing it right now; run this again when it has finished`, args.join(' '));
      assert.not.match(r.out, 'holds no bundles yet');
    }
    rmSync(join(work, 'out.lock'));
    const diff = gen(work, ['diff', 'inventory.json']);
    assert.is(diff.code, 1, 'the secrets are still being written');
    assert.match(diff.err, `secrets: a gen (pid ${process.pid}) is writing it right now`);
  } finally {
    cleanup(work);
  }
});

test('a folder replaced while a read-only command reads it is reported, not read half old, half new', () => {
  const work = tempDir();
  try {
    const dir = join(work, 'out');
    mkdirSync(dir);
    assert.is(
      readSteady(dir, 'output', realMachine(new Date()), () => 'read'),
      'read',
    );
    assert.throws(
      () =>
        readSteady(dir, 'output', realMachine(new Date()), () => {
          renameSync(dir, `${dir}.kubeha-old`);
          mkdirSync(dir);
        }),
      (e: Error) => e instanceof FolderError && e.label === 'output' && e.message === `${dir}: changed while it was read (a gen replaced it); run this again`,
    );
  } finally {
    cleanup(work);
  }
});

/** An errno error as process.kill throws it. */
const errno = (code: string) => Object.assign(new Error(code), { code });
/** A kill(2) that fails with `code` for `pid` and reaches every other process. */
const killFailing = (pid: number, code: string) => (p: number) => {
  if (p === pid) throw errno(code);
  return true;
};

test('a pid is alive when signal 0 reaches it or is refused for another user (EPERM); gone when no such process (ESRCH)', () => {
  assert.is(
    processAlive(4242, () => true),
    true,
  );
  assert.is(processAlive(4242, killFailing(4242, 'EPERM')), true, "another user's process runs");
  assert.is(processAlive(4242, killFailing(4242, 'ESRCH')), false);
  assert.is(processAlive(process.pid), true);
});

test("a lock held by another user's live gen is refused, not taken over; once its pid is gone it is taken over", async () => {
  const work = setup();
  try {
    const pid = 4242;
    const lock = join(work, 'secrets.lock');
    writeFileSync(lock, `${pid} ${hostname()}\n`);
    const now = new Date();
    const args = [join(work, 'inventory.json'), '--out', join(work, 'out'), '--secrets', join(work, 'secrets'), '--quiet'];
    // The kill(2) a non-root gen gets for a root-owned gen: EPERM. The suite runs as root, so the check is injected.
    const otherUser = testMachine({ now, alive: (p) => processAlive(p, killFailing(pid, 'EPERM')), program: () => 'node' });
    const held = await runCli(args, otherUser);
    assert.is(held.code, 1, held.err);
    assert.match(held.err, `secrets: ${lock} exists: another gen (pid ${pid}) is writing ${join(work, 'secrets')}`);
    assert.is(readFileSync(lock, 'utf8'), `${pid} ${hostname()}\n`, 'the lock is left as it was');
    const gone = testMachine({ now, alive: (p) => processAlive(p, killFailing(pid, 'ESRCH')) });
    const taken = await runCli(args, gone);
    assert.is(taken.code, 0, taken.err);
    assert.match(taken.err, `took over ${lock}: its gen (pid ${pid}) is no longer running`);
    assert.not.ok(existsSync(lock), 'released at the end');
  } finally {
    cleanup(work);
  }
});

test("an empty lock's age is measured by the command's clock: taken over after a minute of it, not of the wall clock", async () => {
  const work = setup();
  try {
    const lock = join(work, 'out.lock');
    writeFileSync(lock, '');
    // Written two minutes ago by the wall clock; the command's clock says 30 s after that.
    const written = new Date(Date.now() - 120_000);
    utimesSync(lock, written, written);
    const args = [join(work, 'inventory.json'), '--out', join(work, 'out'), '--secrets', join(work, 'secrets'), '--quiet'];
    const young = await runCli(args, testMachine({ now: new Date(written.getTime() + 30_000) }));
    assert.is(young.code, 1, young.err);
    assert.match(young.err, `output: ${lock} exists but is empty: a gen is taking it right now`);
    const old = await runCli(args, testMachine({ now: new Date(written.getTime() + 61_000) }));
    assert.is(old.code, 0, old.err);
    assert.match(old.err, `took over ${lock}: left empty by a gen killed while taking it`);
  } finally {
    cleanup(work);
  }
});

test.run();
