/**
 * Folders on real small file systems (a tmpfs per test, unmounted afterwards): a mount point as out/ or secrets/ is
 * refused before anything is written and no key is copied outside it; a full disk is a clear error naming the folder
 * and leaves both folders as they were; a failure after the secrets were swapped in says so.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, REPO, ROOT, snapshot, tempDir, testNeeding, type InventoryDoc, withoutEndOfLife } from './helpers.js';
import { withTmpfs } from './mounts.js';

const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');
const runbook = (): InventoryDoc => JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));
/** The runbook with two more etcd members: a run that must write new secrets. */
const grown = (): InventoryDoc => {
  const doc = runbook();
  doc.hosts.push({ name: 'ceph4', address: '172.21.16.20', roles: ['etcd'] }, { name: 'ceph5', address: '172.21.16.21', roles: ['etcd'] });
  return doc;
};

/** Runs the real gen in `work` with an inventory document; bounded in time. */
function gen(work: string, doc: InventoryDoc, args: string[]) {
  writeFileSync(join(work, 'inventory.json'), JSON.stringify(doc));
  const command = args[0] === 'certs' ? args : ['inventory.json', ...args];
  const r = spawnSync('node', [BIN, ...command], { cwd: work, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  return { code: r.status, out: r.stdout, err: withoutEndOfLife(r.stderr) };
}

/** Fills a file system up to `leave` bytes of free space with one file. */
function fill(dir: string, leave: number): void {
  const fs = statfsSync(dir);
  writeFileSync(join(dir, 'filler'), Buffer.alloc(Math.max(0, fs.bavail * fs.bsize - leave)));
}

/** Every name beside the work folder's content that kubeha makes while writing (staging copies, locks). */
const leftovers = (work: string) => readdirSync(work).filter((n) => /kubeha-|\.lock/.test(n));

testNeeding([ROOT], 'a tmpfs mounted as out/ or secrets/ is refused before anything is written; no key is copied outside it', async () => {
  const work = tempDir();
  try {
    assert.is(gen(work, runbook(), ['--quiet']).code, 0);
    execFileSync('mv', [join(work, 'out'), join(work, 'out-before')]);
    await withTmpfs(join(work, 'out'), '16m', async () => {
      execFileSync('cp', ['-a', `${join(work, 'out-before')}/.`, join(work, 'out')]);
      const before = snapshot(join(work, 'out'));
      const r = gen(work, grown(), []);
      assert.is(r.code, 1, r.err);
      assert.match(
        r.err,
        'output: out is a mount point: kubeha replaces the output folder as a whole by renaming a copy into its place, which a mount point does not allow',
      );
      assert.match(r.err, 'give a folder inside the volume instead, such as --out out/out');
      assert.equal(snapshot(join(work, 'out')), before);
      assert.not.ok(existsSync(join(work, 'secrets', 'etcd', 'ceph4-peer.crt')), 'no secrets were made');
      assert.equal(leftovers(work), []);
    });
    execFileSync('mv', [join(work, 'secrets'), join(work, 'secrets-before')]);
    execFileSync('rm', ['-rf', join(work, 'out')]);
    execFileSync('mv', [join(work, 'out-before'), join(work, 'out')]);
    await withTmpfs(join(work, 'secrets'), '16m', async () => {
      execFileSync('cp', ['-a', `${join(work, 'secrets-before')}/.`, join(work, 'secrets')]);
      const same = gen(work, runbook(), ['--quiet']);
      assert.is(same.code, 0, `nothing to change in the secrets: the mount is fine (${same.err})`);
      const before = [snapshot(join(work, 'secrets')), snapshot(join(work, 'out'))];
      const r = gen(work, grown(), []);
      assert.is(r.code, 1, r.err);
      assert.match(r.err, 'secrets: secrets is a mount point: kubeha replaces the secrets folder as a whole');
      assert.match(r.err, 'such as --secrets secrets/secrets (move the files there)');
      assert.equal([snapshot(join(work, 'secrets')), snapshot(join(work, 'out'))], before);
      assert.equal(leftovers(work), [], 'no staged copy of the keys outside the volume');
      const renew = gen(work, runbook(), ['certs', 'renew', '--within', '99999']);
      assert.is(renew.code, 1, renew.err);
      assert.match(renew.err, 'secrets: secrets is a mount point');
      assert.equal(leftovers(work), []);
    });
  } finally {
    cleanup(work);
  }
});

testNeeding([ROOT], 'a full disk (ENOSPC) while writing the output or the secrets: a clear error naming the folder; both folders as they were', async () => {
  const work = tempDir();
  try {
    const small = join(work, 'small');
    await withTmpfs(small, '2m', async () => {
      const args = ['--out', 'small/out', '--secrets', 'secrets'];
      assert.is(gen(work, runbook(), [...args, '--quiet']).code, 0);
      const before = [snapshot(join(small, 'out')), snapshot(join(work, 'secrets'))];
      fill(small, 8192);
      const r = gen(work, grown(), args);
      assert.is(r.code, 1, r.err);
      assert.match(r.err, /^output: small\/out: cannot write the new output in small\/out\.kubeha-new: no space left on the device \(ENOSPC\)/);
      assert.match(r.err, 'Nothing was changed: the previous output and secrets are as they were.');
      assert.not.match(r.err, 'internal error');
      assert.equal([snapshot(join(small, 'out')), snapshot(join(work, 'secrets'))], before);
      assert.equal(readdirSync(small).sort(), ['filler', 'out']);
      assert.equal(leftovers(work), []);
    });
    await withTmpfs(small, '2m', async () => {
      execFileSync('cp', ['-a', join(work, 'secrets'), join(small, 'secrets')]);
      const args = ['--out', 'out', '--secrets', 'small/secrets'];
      assert.is(gen(work, runbook(), [...args, '--quiet']).code, 0);
      const before = [snapshot(join(work, 'out')), snapshot(join(small, 'secrets'))];
      fill(small, 8192); // room for the lock file, not for the new keys and certificates
      const r = gen(work, grown(), args);
      assert.is(r.code, 1, r.err);
      assert.match(r.err, /^secrets: small\/secrets: cannot write the new secrets: no space left on the device \(ENOSPC\)/);
      assert.match(r.err, 'Nothing was changed');
      assert.equal([snapshot(join(work, 'out')), snapshot(join(small, 'secrets'))], before);
      assert.equal(readdirSync(small).sort(), ['filler', 'secrets'], 'no staged copy of the keys is left');
      assert.equal(leftovers(work), []);
    });
  } finally {
    cleanup(work);
  }
});

testNeeding(['chattr', ROOT], 'when the output cannot be swapped in after the secrets were, gen says so (never "nothing was changed")', () => {
  const work = tempDir();
  const out = join(work, 'out');
  try {
    assert.is(gen(work, runbook(), ['--quiet']).code, 0);
    const before = snapshot(out);
    execFileSync('chattr', ['+i', out]); // the folder cannot be renamed (EPERM), its files can still be read
    const r = gen(work, grown(), []);
    assert.is(r.code, 1, r.err);
    assert.match(r.err, 'output: out: cannot swap in the new output: the operation is not permitted (an immutable file or folder?) (EPERM).');
    assert.match(r.err, 'The secrets folder secrets WAS updated (etcd/ceph4-server.key');
    assert.not.match(r.err, 'Nothing was changed');
    assert.ok(existsSync(join(work, 'secrets', 'etcd', 'ceph4-peer.crt')), 'the secrets were updated indeed');
    assert.equal(snapshot(out), before, 'the output is as it was');
    assert.equal(leftovers(work), []);
    execFileSync('chattr', ['-i', out]);
    const again = gen(work, grown(), ['--quiet']);
    assert.is(again.code, 0, again.err);
    assert.not.match(again.err, 'secrets:');
  } finally {
    spawnSync('chattr', ['-i', out]);
    cleanup(work);
  }
});

test.run();
