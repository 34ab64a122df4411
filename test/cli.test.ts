import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, REPO, runCli, snapshot, tempDir } from './helpers.js';

const EXAMPLE = join(REPO, 'examples', 'runbook.json');
const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');

test('--help on every command prints its usage and exits 0', async () => {
  for (const args of [['--help'], ['-h'], ['validate', '--help'], ['plan', '--help'], ['certs', '--help']]) {
    const r = await runCli(args);
    assert.is(r.code, 0, args.join(' '));
    assert.match(r.out, /^Usage: gen/);
    assert.is(r.err, '');
  }
});

test('usage errors exit 2 with the usage text', async () => {
  for (const [args, message] of [
    [[], 'gen: missing INVENTORY'],
    [['validate'], 'gen: missing INVENTORY'],
    [['plan', 'a.json', 'b.json'], 'gen: unexpected argument b.json'],
    [['--frobnicate', 'x.json'], "gen: Unknown option '--frobnicate'"],
    [['validate', 'x.json', '--out', 'o'], 'gen: gen validate takes no --out or --secrets'],
  ] as [string[], string][]) {
    const r = await runCli(args);
    assert.is(r.code, 2, args.join(' '));
    assert.ok(r.err.startsWith(message), r.err);
    assert.match(r.err, 'Usage: gen');
  }
});

test('the real executable: exit codes 0, 1 and 2 and no stack trace for bad input', () => {
  const ok = spawnSync('node', [BIN, 'validate', EXAMPLE], { encoding: 'utf8' });
  assert.is(ok.status, 0, ok.stderr);
  assert.is(ok.stdout, `${EXAMPLE}: valid (5 hosts)\n`);
  const missing = spawnSync('node', [BIN, 'validate', '/nonexistent/inventory.json'], { encoding: 'utf8' });
  assert.is(missing.status, 1);
  assert.is(missing.stderr, '/nonexistent/inventory.json: cannot read: ENOENT\n');
  const usage = spawnSync('node', [BIN], { encoding: 'utf8' });
  assert.is(usage.status, 2);
});

test('gen plan prints hosts x roles x services and the run order', async () => {
  const r = await runCli(['plan', EXAMPLE]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, 'control-plane endpoint 10.0.8.100:16443 (VIP 10.0.8.100, unicast VRRP, router id');
  assert.match(r.out, /worker1 +10\.0\.8\.6 +control-plane,loadbalancer +kubeadm init +haproxy,keepalived,containerd,kubelet/);
  assert.match(r.out, /ceph2 +172\.21\.16\.6 +etcd +- +etcd\n/);
  assert.match(
    r.out,
    '  1. etcd members: ceph1, ceph2, ceph3\n  2. first control plane (kubeadm init): worker1\n  3. other control planes (kubeadm join --control-plane): worker2\n',
  );
});

test('gen writes one tarball per host and SHA256SUMS that sha256sum accepts', async () => {
  const work = tempDir();
  try {
    const r = await runCli([EXAMPLE, '--out', join(work, 'out'), '--secrets', join(work, 'secrets')]);
    assert.is(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^wrote 5 bundles \\(\\d+ files\\) to ${join(work, 'out')}/ in [0-9.]+s, with ${join(work, 'out')}/SHA256SUMS$`, 'm'));
    assert.match(r.out, `Back up ${join(work, 'secrets')}/`);
    const check = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(work, 'out'), encoding: 'utf8' });
    assert.is(check.status, 0, check.stdout + check.stderr);
    const listing = execFileSync('tar', ['-tzf', join(work, 'out', 'ceph1.tar.gz')], { encoding: 'utf8' })
      .trim()
      .split('\n');
    assert.ok(
      listing.every((l) => l.startsWith('ceph1/')),
      'one folder named after the host',
    );
    assert.ok(listing.includes('ceph1/run.sh') && listing.includes('ceph1/SHA256SUMS') && listing.includes('ceph1/rootfs/'));
    const unpack = join(work, 'unpacked');
    mkdirSync(unpack);
    execFileSync('tar', ['-xzf', join(work, 'out', 'ceph1.tar.gz'), '-C', unpack]);
    const inner = spawnSync('sha256sum', ['--strict', '-c', 'SHA256SUMS'], { cwd: join(unpack, 'ceph1'), encoding: 'utf8' });
    assert.is(inner.status, 0, inner.stdout + inner.stderr);
    const sums = readFileSync(join(unpack, 'ceph1', 'SHA256SUMS'), 'utf8');
    assert.match(sums, '  run.sh\n');
    assert.is(statSync(join(unpack, 'ceph1', 'run.sh')).mode & 0o777, 0o755);
  } finally {
    cleanup(work);
  }
});

test('YAML inventories work end to end', async () => {
  const work = tempDir();
  try {
    const yaml = join(work, 'lab.yaml');
    writeFileSync(
      yaml,
      'cluster:\n  kubernetesVersion: "1.31.3"\n  podSubnet: 10.244.0.0/16\nhosts:\n  - name: lab1\n    address: 127.0.1.1\n    roles: [control-plane, etcd, worker]\n',
    );
    const r = await runCli([yaml, '--out', join(work, 'out'), '--secrets', join(work, 'secrets'), '--quiet']);
    assert.is(r.code, 0, r.err);
    assert.is(r.out, '');
    assert.equal(readdirSync(join(work, 'out')).sort(), ['SHA256SUMS', 'ansible', 'cluster.svg', 'lab1.tar.gz']);
  } finally {
    cleanup(work);
  }
});

test('a failed run leaves the previous output untouched; other files in the output folder are kept', async () => {
  const work = tempDir();
  try {
    const out = join(work, 'out');
    assert.is((await runCli([EXAMPLE, '--out', out, '--secrets', join(work, 'secrets'), '--quiet'])).code, 0);
    writeFileSync(join(out, '.gitkeep'), '');
    mkdirSync(join(out, 'ansible', 'group_vars'));
    writeFileSync(join(out, 'ansible', 'group_vars', 'all.yml'), 'ansible_user: admin\n');
    const before = snapshot(out);
    const bad = join(work, 'bad.json');
    writeFileSync(bad, readFileSync(EXAMPLE, 'utf8').replace('"10.0.8.12"', '"10.0.8.6"'));
    const r = await runCli([bad, '--out', out, '--secrets', join(work, 'secrets')]);
    assert.is(r.code, 1);
    assert.equal(snapshot(out), before);
    assert.is((await runCli([EXAMPLE, '--out', out, '--secrets', join(work, 'secrets'), '--quiet'])).code, 0);
    assert.ok(readdirSync(out).includes('.gitkeep'), 'unrelated files survive a successful run');
    assert.is(
      readFileSync(join(out, 'ansible', 'group_vars', 'all.yml'), 'utf8'),
      'ansible_user: admin\n',
      "the operator's group_vars beside the playbook survive too",
    );
    const blocked = await runCli([EXAMPLE, '--out', join(work, 'bad.json', 'out'), '--secrets', join(work, 'secrets')]);
    assert.is(blocked.code, 1);
    assert.match(blocked.err, 'ENOTDIR');
    assert.not.match(blocked.err, 'internal error');
    const fresh = join(work, 'fresh-secrets');
    const first = await runCli([EXAMPLE, '--out', join(work, 'bad.json', 'out'), '--secrets', fresh]);
    assert.is(first.code, 1);
    assert.not.ok(
      readdirSync(work).some((n) => n.startsWith('fresh-secrets')),
      'a first run that cannot write its output leaves no secrets behind',
    );
  } finally {
    cleanup(work);
  }
});

test('two writers cannot interleave: a held lock stops gen and renew; an interrupted swap is rolled back, not guessed', async () => {
  const work = tempDir();
  try {
    const args = ['--out', join(work, 'out'), '--secrets', join(work, 'secrets')];
    assert.is((await runCli([EXAMPLE, ...args, '--quiet'])).code, 0);
    assert.not.ok(readdirSync(work).includes('secrets.lock'), 'the lock is released');
    // A live holder (this test's own pid): refused. Stale locks are covered in folders.test.ts.
    writeFileSync(join(work, 'secrets.lock'), `${process.pid}\n`);
    const locked = await runCli([EXAMPLE, ...args]);
    assert.is(locked.code, 1);
    assert.is(
      locked.err,
      `secrets: ${join(work, 'secrets.lock')} exists: another gen (pid ${process.pid}) is writing ${join(work, 'secrets')}; if none is running (it was killed), delete ${join(work, 'secrets.lock')}\nNothing was written.\n`,
    );
    assert.is((await runCli(['certs', 'renew', '--secrets', join(work, 'secrets')])).code, 1);
    execFileSync('rm', [join(work, 'secrets.lock')]);
    // A run killed between its two renames leaves only secrets.kubeha-old: put it back instead of making a new CA.
    const ca = readFileSync(join(work, 'secrets', 'ca.crt'));
    execFileSync('mv', [join(work, 'secrets'), join(work, 'secrets.kubeha-old')]);
    const readOnly = await runCli(['certs', '--secrets', join(work, 'secrets')]);
    assert.is(readOnly.code, 1);
    assert.match(readOnly.err, 'secrets.kubeha-old was left by an interrupted run: run gen (or gen certs renew) to put it back');
    const interrupted = await runCli([EXAMPLE, ...args]);
    assert.is(interrupted.code, 0, interrupted.err);
    assert.match(interrupted.err, `restored ${join(work, 'secrets')} from ${join(work, 'secrets.kubeha-old')}`);
    assert.ok(readFileSync(join(work, 'secrets', 'ca.crt')).equals(ca), 'the same CA, no new one');
  } finally {
    cleanup(work);
  }
});

test('a larger cluster (206 hosts) generates and checks clean', async () => {
  const work = tempDir();
  try {
    const doc = JSON.parse(readFileSync(EXAMPLE, 'utf8'));
    doc.hosts.push(
      ...Array.from({ length: 200 }, (_, i) => ({ name: `node${i}`, address: `10.1.${Math.floor(i / 200)}.${(i % 200) + 1}`, roles: ['worker'] })),
    );
    const inventory = join(work, 'big.json');
    writeFileSync(inventory, JSON.stringify(doc));
    const args = ['--out', join(work, 'out'), '--secrets', join(work, 'secrets')];
    const r = await runCli([inventory, ...args, '--quiet']);
    assert.is(r.code, 0, r.err);
    assert.is(readdirSync(join(work, 'out')).length, 208, '205 tarballs, ansible/, cluster.svg and SHA256SUMS');
    const check = await runCli(['check', inventory, ...args]);
    assert.is(check.code, 0, check.err + check.out);
    const again = JSON.parse((await runCli([inventory, ...args, '--json'])).out);
    const perWorker = Number(execFileSync('sh', ['-c', `tar -tzf '${join(work, 'out', 'node7.tar.gz')}' | grep -vc '/$'`], { encoding: 'utf8' }).trim());
    assert.ok(again.files >= 200 * perWorker, `files counted on both threads: ${again.files}`);
  } finally {
    cleanup(work);
  }
});

test.run();
