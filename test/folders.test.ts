/** The secrets and output folders as operators really keep them: links, trailing slashes, notes, locks, crashes, modes. */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO, cleanup, runCli, snapshot, tempDir, withoutEndOfLife } from './helpers.js';

const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');
const runbook = () => JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));
/** The runbook with one more etcd member: a run that must write new secrets. */
const grown = () => {
  const doc = runbook();
  doc.hosts.push({ name: 'ceph4', address: '172.21.16.20', roles: ['etcd'] }, { name: 'ceph5', address: '172.21.16.21', roles: ['etcd'] });
  return doc;
};

function inventory(work: string, doc: unknown, name = 'inventory.json'): string {
  writeFileSync(join(work, name), JSON.stringify(doc));
  return join(work, name);
}

async function gen(work: string, doc: unknown, out = join(work, 'out'), secrets = join(work, 'secrets')) {
  return runCli([inventory(work, doc), '--out', out, '--secrets', secrets]);
}

/** A pid that surely belongs to no running process: a child that has exited. */
function deadPid(): number {
  return spawnSync('true').pid!;
}

/** Every name below a folder, hidden ones too (helpers' walk lists only files). */
function names(dir: string): string[] {
  return execFileSync('find', [dir, '-mindepth', '1', '-printf', '%P\\n'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
}

test('symlinked ca.crt/ca.key are followed and kept as links; a dangling one is refused, never replaced by a new CA', async () => {
  const work = tempDir();
  try {
    assert.is((await gen(work, runbook())).code, 0);
    const vault = join(work, 'vault');
    mkdirSync(vault);
    for (const f of ['ca.crt', 'ca.key']) {
      renameSync(join(work, 'secrets', f), join(vault, f));
      symlinkSync(join(vault, f), join(work, 'secrets', f));
    }
    const ca = readFileSync(join(vault, 'ca.crt'), 'utf8');
    const r = await gen(work, grown());
    assert.is(r.code, 0, r.err);
    assert.not.match(r.out, 'generated ca.crt');
    for (const f of ['ca.crt', 'ca.key']) {
      assert.ok(lstatSync(join(work, 'secrets', f)).isSymbolicLink(), `${f} is still a link`);
      assert.is(readlinkSync(join(work, 'secrets', f)), join(vault, f));
    }
    assert.is(readFileSync(join(vault, 'ca.crt'), 'utf8'), ca, 'the CA is the same');
    const listed = await runCli(['certs', '--secrets', join(work, 'secrets')]);
    assert.match(listed.out, /^ca\.crt\n/m);

    // The vault is not mounted: the link dangles. Refuse; make no new CA.
    renameSync(vault, join(work, 'vault-unmounted'));
    const before = names(join(work, 'secrets'));
    const dangling = await gen(work, runbook());
    assert.is(dangling.code, 1);
    assert.match(dangling.err, `secrets: ${join(work, 'secrets', 'ca.crt')}: a link to ${join(vault, 'ca.crt')}, which cannot be read (ENOENT)`);
    assert.equal(names(join(work, 'secrets')), before);
    assert.not.ok(existsSync(vault), 'nothing was written through the dangling link');
  } finally {
    cleanup(work);
  }
});

test('a secret that must be rewritten behind a link is refused with the way out, not written through the link', async () => {
  const work = tempDir();
  try {
    assert.is((await gen(work, runbook())).code, 0);
    const real = join(work, 'etcd-real');
    renameSync(join(work, 'secrets', 'etcd'), real);
    symlinkSync(real, join(work, 'secrets', 'etcd'));
    assert.is((await gen(work, runbook())).code, 0, 'a linked folder is read through');
    const before = snapshot(real);
    const outBefore = snapshot(join(work, 'out'));
    const r = await gen(work, grown());
    assert.is(r.code, 1);
    assert.match(
      r.err,
      `secrets: ${join(work, 'secrets', 'etcd')} is a link: kubeha must write etcd/ceph4-peer.crt there and does not write through links inside the secrets folder; replace the link by a real folder`,
    );
    assert.equal(snapshot(real), before);
    assert.equal(snapshot(join(work, 'out')), outBefore, 'the output folder is as it was');
    assert.not.ok(existsSync(join(work, 'out.kubeha-new')), 'the staged output was removed');
  } finally {
    cleanup(work);
  }
});

test('trailing slashes: --out out/ and --secrets secrets/ work, and no staging copy is left or loaded', async () => {
  const work = tempDir();
  try {
    const slash = (p: string) => `${p}/`;
    let r = await gen(work, runbook(), slash(join(work, 'out')), slash(join(work, 'secrets')));
    assert.is(r.code, 0, r.err);
    r = await gen(work, grown(), slash(join(work, 'out')) + '/', slash(join(work, 'secrets')));
    assert.is(r.code, 0, r.err);
    assert.match(r.out, `to ${join(work, 'out')}/ in`);
    assert.equal(readdirSync(work).sort(), ['inventory.json', 'out', 'secrets']);
    assert.not.ok(
      names(join(work, 'secrets')).some((n) => n.includes('kubeha')),
      'no staging copy inside the secrets folder',
    );
    assert.is(spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(work, 'out') }).status, 0);

    // A copy left inside the folder by an older kubeha is never loaded as secrets, and is removed with a message.
    mkdirSync(join(work, 'secrets', '.kubeha-new'));
    writeFileSync(join(work, 'secrets', '.kubeha-new', 'ca.crt'), 'stale\n');
    const listed = await runCli(['certs', '--secrets', join(work, 'secrets')]);
    assert.is(listed.code, 0, listed.err);
    assert.not.match(listed.out, '.kubeha-new');
    r = await gen(work, grown());
    assert.is(r.code, 0, r.err);
    assert.match(r.err, `removed ${join(work, 'secrets', '.kubeha-new')}`);
    assert.not.ok(existsSync(join(work, 'secrets', '.kubeha-new')));

    for (const bad of ['.', '/', '..', 'a/..', '../..', '']) {
      const u = await runCli([inventory(work, runbook()), '--out', bad, '--secrets', join(work, 'secrets')]);
      assert.is(u.code, 2, bad);
      assert.match(u.err, `gen: --out ${bad} cannot be`);
    }
    const same = await runCli([inventory(work, runbook()), '--out', join(work, 'secrets', 'out'), '--secrets', join(work, 'secrets')]);
    assert.is(same.code, 2);
    assert.match(
      same.err,
      `gen: --out ${join(work, 'secrets', 'out')} lies inside --secrets ${join(work, 'secrets')}: give two separate folders, neither inside the other`,
    );
  } finally {
    cleanup(work);
  }
});

test("an output and a secrets folder named after the other's staging copies or lock are refused (exit 2), links followed, before anything is written", async () => {
  const work = tempDir();
  try {
    const inv = inventory(work, runbook());
    const secrets = join(work, 'secrets');
    assert.is((await runCli([inv, '--out', join(work, 'out'), '--secrets', secrets, '--quiet'])).code, 0);
    const kept = snapshot(secrets);
    mkdirSync(join(work, 'vault'));
    symlinkSync(work, join(work, 'vault', 'here'));
    const cases: [string, string, string][] = [
      // [--out, --secrets, the message's tail]
      [
        'out',
        'out.kubeha-old',
        `--secrets out.kubeha-old is ${join(work, 'out.kubeha-old')}: where kubeha moves its previous version (and deletes it) beside --out out`,
      ],
      ['out', 'out.kubeha-new', `is ${join(work, 'out.kubeha-new')}: where kubeha stages its next version (and deletes what is there) beside --out out`],
      ['out', 'out.lock', `is ${join(work, 'out.lock')}: its lock file beside --out out`],
      ['out', 'out.lock.stale-4242', `is ${join(work, 'out.lock.stale-4242')}: where kubeha moves a stale lock (and deletes it) beside --out out`],
      ['out', 'out.kubeha-old/keys', `--secrets out.kubeha-old/keys lies inside ${join(work, 'out.kubeha-old')}: where kubeha moves`],
      ['secrets.kubeha-new', 'secrets', `--out secrets.kubeha-new is ${join(work, 'secrets.kubeha-new')}: where kubeha stages its next version`],
      ['secrets.kubeha-old', 'secrets', 'beside --secrets secrets'],
      ['secrets.lock', 'secrets', 'its lock file beside --secrets secrets'],
      ['./out/', 'vault/here/out.kubeha-old', `--secrets vault/here/out.kubeha-old is ${join(work, 'out.kubeha-old')} (links followed)`],
      ['vault/here/secrets.kubeha-old/', 'secrets', `--out vault/here/secrets.kubeha-old/ is ${join(work, 'secrets.kubeha-old')} (links followed)`],
      ['vault/here/out', 'out', 'are one folder (links followed)'],
      ['out', 'vault/here/out/keys', '--secrets vault/here/out/keys lies inside --out out (links followed)'],
    ];
    for (const [out, secretsDir, message] of cases) {
      for (const command of [[], ['diff'], ['check']]) {
        const r = spawnSync('node', [BIN, ...command, inv, '--out', out, '--secrets', secretsDir], { cwd: work, encoding: 'utf8' });
        assert.is(r.status, 2, `${command} --out ${out} --secrets ${secretsDir}: ${r.stderr}`);
        assert.match(withoutEndOfLife(r.stderr), message);
        assert.match(r.stderr, /give two (separate )?folders/);
      }
    }
    assert.equal(readdirSync(work).sort(), ['inventory.json', 'out', 'secrets', 'vault'], 'nothing was written');
    assert.equal(snapshot(secrets), kept, 'the secrets are as they were');
  } finally {
    cleanup(work);
  }
});

test('--secrets or --out naming a file (or a link to one) is refused for every command, and the file is left as it was', async () => {
  const work = tempDir();
  try {
    const inv = inventory(work, runbook());
    const file = join(work, 'notes.txt');
    writeFileSync(file, 'my notes\n', { mode: 0o644 });
    chmodSync(file, 0o644);
    symlinkSync(file, join(work, 'link'));
    const before = statSync(file);
    for (const args of [
      [inv, '--secrets', file],
      ['diff', inv, '--secrets', file],
      ['check', inv, '--secrets', file],
      ['certs', '--secrets', file],
      ['certs', 'renew', '--secrets', file],
      [inv, '--secrets', join(work, 'link')],
    ]) {
      const r = await runCli(args);
      assert.is(r.code, 1, args.join(' '));
      assert.match(
        withoutEndOfLife(r.err),
        /^secrets: \S+ is (a file|a link to \S+, which is a file), not a folder: give the folder that holds \(or will hold\) the CAs, keys and tokens\n/,
      );
    }
    for (const out of [file, join(work, 'link')]) {
      const r = await runCli([inv, '--out', out, '--secrets', join(work, 'secrets')]);
      assert.is(r.code, 1);
      assert.match(r.err, 'not a folder: give the folder that holds (or will hold) the tarballs');
    }
    const after = statSync(file);
    assert.is(after.mode, before.mode, 'the mode is as it was (0644)');
    assert.is(after.ctimeMs, before.ctimeMs, 'not touched at all');
    assert.equal(readdirSync(work).sort(), ['inventory.json', 'link', 'notes.txt']);
  } finally {
    cleanup(work);
  }
});

test('what kubeha did not write is kept in both folders, untouched; only its own files are replaced', async () => {
  const work = tempDir();
  try {
    assert.is((await gen(work, runbook())).code, 0);
    const out = join(work, 'out');
    const secrets = join(work, 'secrets');
    mkdirSync(join(out, '.git', 'objects'), { recursive: true });
    writeFileSync(join(out, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(out, '.git', 'objects', 'ab'), 'object');
    writeFileSync(join(out, 'NOTES.md'), 'rollout notes\n');
    writeFileSync(join(out, 'backup.tar.gz'), 'not a bundle of ours');
    symlinkSync('NOTES.md', join(out, 'README'));
    writeFileSync(join(secrets, 'README'), 'ask Ops before touching\n');
    writeFileSync(join(secrets, '.gitattributes'), '* filter=git-crypt diff=git-crypt\n');
    mkdirSync(join(secrets, '.git'));
    writeFileSync(join(secrets, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(secrets, 'etcd', 'NOTES'), 'member list\n');
    const inode = statSync(join(out, 'NOTES.md')).ino;
    const doc = grown();
    doc.hosts = doc.hosts.filter((h: any) => h.name !== 'worker2');
    const r = await gen(work, doc);
    assert.is(r.code, 0, r.err);
    assert.match(r.out, 'secrets: issued etcd/ceph4-server.crt', 'the secrets folder was swapped');
    assert.is(readFileSync(join(out, '.git', 'HEAD'), 'utf8'), 'ref: refs/heads/main\n');
    assert.is(readFileSync(join(out, '.git', 'objects', 'ab'), 'utf8'), 'object');
    assert.is(readFileSync(join(out, 'backup.tar.gz'), 'utf8'), 'not a bundle of ours', 'a tarball SHA256SUMS never listed is not ours');
    assert.is(readlinkSync(join(out, 'README')), 'NOTES.md', 'a link stays a link');
    assert.is(statSync(join(out, 'NOTES.md')).ino, inode, 'the very same file, not a copy');
    assert.not.ok(existsSync(join(out, 'worker2.tar.gz')), "the removed host's bundle (ours) is gone");
    assert.is(readFileSync(join(secrets, 'README'), 'utf8'), 'ask Ops before touching\n');
    assert.is(readFileSync(join(secrets, '.gitattributes'), 'utf8'), '* filter=git-crypt diff=git-crypt\n');
    assert.is(readFileSync(join(secrets, '.git', 'HEAD'), 'utf8'), 'ref: refs/heads/main\n');
    assert.is(readFileSync(join(secrets, 'etcd', 'NOTES'), 'utf8'), 'member list\n');
    assert.ok(existsSync(join(secrets, 'etcd', 'ceph4-server.crt')));
    assert.is(spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out }).status, 0);
  } finally {
    cleanup(work);
  }
});

test('out and secrets as links: written through the link, the links stay; a dangling secrets link is refused', async () => {
  const work = tempDir();
  try {
    mkdirSync(join(work, 'real-out'));
    mkdirSync(join(work, 'real-secrets'), { mode: 0o700 });
    symlinkSync(join(work, 'real-out'), join(work, 'out'));
    symlinkSync('real-secrets', join(work, 'secrets'));
    assert.is((await gen(work, runbook())).code, 0);
    const r = await gen(work, grown());
    assert.is(r.code, 0, r.err);
    assert.ok(lstatSync(join(work, 'out')).isSymbolicLink() && lstatSync(join(work, 'secrets')).isSymbolicLink(), 'both are still links');
    assert.ok(existsSync(join(work, 'real-secrets', 'etcd', 'ceph4-peer.key')), 'the new secrets are in the link target');
    assert.ok(existsSync(join(work, 'real-out', 'ceph4.tar.gz')), 'the new output is in the link target');
    assert.is(spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(work, 'real-out') }).status, 0);
    assert.equal(readdirSync(work).sort(), ['inventory.json', 'out', 'real-out', 'real-secrets', 'secrets']);

    renameSync(join(work, 'real-secrets'), join(work, 'unmounted'));
    const dangling = await gen(work, runbook());
    assert.is(dangling.code, 1);
    assert.match(dangling.err, `${join(work, 'secrets')} is a link to real-secrets, which does not exist (not mounted?); kubeha will not start a new CA there`);
    assert.not.ok(existsSync(join(work, 'real-secrets')), 'no new CA was made');
    // The same one level up: secrets/ inside a folder that is a dangling link.
    symlinkSync(join(work, 'vault-not-mounted'), join(work, 'cluster'));
    const parent = await gen(work, runbook(), join(work, 'out2'), join(work, 'cluster', 'secrets'));
    assert.is(parent.code, 1);
    assert.match(
      parent.err,
      `secrets: ${join(work, 'cluster', 'secrets')}: ${join(work, 'cluster')} is a link to ${join(work, 'vault-not-mounted')}, which does not exist (not mounted?); kubeha will not start a new CA there`,
    );
    assert.not.ok(existsSync(join(work, 'vault-not-mounted')));
  } finally {
    cleanup(work);
  }
});

test('the output folder is locked too: a held <out>.lock refuses at once, naming it', async () => {
  const work = tempDir();
  try {
    writeFileSync(join(work, 'out.lock'), `${process.pid} ${hostname()}\n`);
    const r = await gen(work, runbook());
    assert.is(r.code, 1);
    assert.match(r.err, `${join(work, 'out.lock')} exists: another gen (pid ${process.pid}) is writing ${join(work, 'out')}`);
    assert.not.ok(existsSync(join(work, 'out')));
    assert.not.ok(existsSync(join(work, 'secrets')), 'the secrets are not made when the output cannot be written');
    assert.not.ok(existsSync(join(work, 'secrets.lock')), 'the secrets lock was released');
  } finally {
    cleanup(work);
  }
});

test('two gen processes on the same --out with different --secrets: both end, the output is whole', async () => {
  const work = tempDir();
  try {
    const doc = runbook();
    doc.hosts.push(...Array.from({ length: 40 }, (_, i) => ({ name: `node${i}`, address: `10.1.0.${i + 1}`, roles: ['worker'] })));
    const inv = inventory(work, doc);
    const run = (secrets: string) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const child = spawn('node', [BIN, inv, '--out', join(work, 'out'), '--secrets', join(work, secrets), '--quiet'], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let err = '';
        child.stderr.on('data', (d) => {
          err += d;
        });
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve({ code, err });
        });
      });
    const results = await Promise.all([run('s1'), run('s2'), run('s3')]);
    for (const r of results) {
      assert.ok(r.code === 0 || (r.code === 1 && r.err.includes(`${join(work, 'out.lock')} exists`)), `ended cleanly: ${r.code} ${r.err}`);
    }
    assert.ok(results.some((r) => r.code === 0));
    const check = spawnSync('sha256sum', ['--strict', '-c', 'SHA256SUMS'], { cwd: join(work, 'out'), encoding: 'utf8' });
    assert.is(check.status, 0, check.stdout + check.stderr);
    assert.not.ok(
      readdirSync(work).some((n) => n.includes('.lock') || n.includes('kubeha-')),
      readdirSync(work).join(' '),
    );
  } finally {
    cleanup(work);
  }
});

test('a stale lock (dead pid, this host) is taken over with a message; a live or foreign one is refused', async () => {
  const work = tempDir();
  try {
    const dead = deadPid();
    writeFileSync(join(work, 'secrets.lock'), `${dead} ${hostname()}\n`);
    let r = await gen(work, runbook());
    assert.is(r.code, 0, r.err);
    assert.match(r.err, `took over ${join(work, 'secrets.lock')}: its gen (pid ${dead}) is no longer running`);
    assert.not.ok(existsSync(join(work, 'secrets.lock')));
    writeFileSync(join(work, 'out.lock'), `${dead}\n`);
    r = await gen(work, runbook());
    assert.is(r.code, 0, 'a lock written by an older kubeha (pid only) is taken over too');
    writeFileSync(join(work, 'secrets.lock'), `${process.pid} ${hostname()}\n`);
    r = await gen(work, runbook());
    assert.is(r.code, 1);
    assert.match(r.err, `another gen (pid ${process.pid}) is writing`);
    writeFileSync(join(work, 'secrets.lock'), '');
    r = await gen(work, runbook());
    assert.is(r.code, 1, 'an empty lock may be one being written right now');
    utimesSync(join(work, 'secrets.lock'), new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    r = await gen(work, runbook());
    assert.is(r.code, 0, r.err);
    assert.match(r.err, `took over ${join(work, 'secrets.lock')}: left empty by a gen killed while taking it`);
    writeFileSync(join(work, 'secrets.lock'), `${dead} build-host-7\n`);
    r = await gen(work, runbook());
    assert.is(r.code, 1);
    assert.match(r.err, `${join(work, 'secrets.lock')} exists: another gen (pid ${dead} on build-host-7) is writing`);
  } finally {
    cleanup(work);
  }
});

test('a crash mid-swap is finished or rolled back by the next run, with a message; no copy of keys is left behind', async () => {
  const work = tempDir();
  try {
    assert.is((await gen(work, runbook())).code, 0);
    const secrets = join(work, 'secrets');
    const ca = readFileSync(join(secrets, 'ca.crt'), 'utf8');
    // Killed after the second rename: the new folder is in place, the old copy (with every CA key) is left.
    execFileSync('cp', ['-a', secrets, `${secrets}.kubeha-old`]);
    const readOnly = await runCli(['certs', '--secrets', secrets]);
    assert.match(
      readOnly.err,
      `warning: ${secrets}.kubeha-old was left by an interrupted run and holds copies of secret keys: the next gen (or gen certs renew) removes it`,
    );
    let r = await gen(work, runbook());
    assert.is(r.code, 0, r.err);
    assert.match(r.err, `removed ${secrets}.kubeha-old: the previous copy left by an interrupted run`);
    assert.not.ok(existsSync(`${secrets}.kubeha-old`));
    // Killed between the renames: only the old copy and the staged one exist; roll back to the old one.
    renameSync(secrets, `${secrets}.kubeha-old`);
    execFileSync('cp', ['-a', `${secrets}.kubeha-old`, `${secrets}.kubeha-new`]);
    writeFileSync(join(`${secrets}.kubeha-new`, 'ca.crt'), 'half written');
    r = await gen(work, runbook());
    assert.is(r.code, 0, r.err);
    assert.match(r.err, `restored ${secrets} from ${secrets}.kubeha-old (an interrupted run had moved it aside)`);
    assert.match(r.err, `removed ${secrets}.kubeha-new`);
    assert.is(readFileSync(join(secrets, 'ca.crt'), 'utf8'), ca, 'the same CA, no new one');
    // The same for the output folder.
    renameSync(join(work, 'out'), join(work, 'out.kubeha-old'));
    r = await gen(work, runbook());
    assert.is(r.code, 0, r.err);
    assert.match(r.err, `restored ${join(work, 'out')} from ${join(work, 'out')}.kubeha-old`);
    assert.equal(readdirSync(work).sort(), ['inventory.json', 'out', 'secrets']);
  } finally {
    cleanup(work);
  }
});

test('a "previous copy" kubeha cannot have left (a link to the secrets, a file) is neither restored into the output nor deleted', async () => {
  const work = tempDir();
  try {
    assert.is((await gen(work, runbook())).code, 0);
    const secrets = join(work, 'secrets');
    const kept = snapshot(secrets);
    execFileSync('rm', ['-rf', join(work, 'out')]);
    symlinkSync('secrets', join(work, 'out.kubeha-old'));
    const r = await gen(work, runbook());
    assert.is(r.code, 1);
    assert.match(
      r.err,
      `output: ${join(work, 'out.kubeha-old')} is a link to secrets, not a copy kubeha moved aside: kubeha neither restores nor deletes it; remove it yourself`,
    );
    assert.not.ok(existsSync(join(work, 'out')), 'the link was not restored as the output folder');
    assert.equal(snapshot(secrets), kept);
    assert.is(readlinkSync(join(work, 'out.kubeha-old')), 'secrets');
  } finally {
    cleanup(work);
  }
});

test('group- or world-readable secrets are reported and fixed to 0600 files in 0700 folders', async () => {
  const work = tempDir();
  try {
    assert.is((await gen(work, runbook())).code, 0);
    const secrets = join(work, 'secrets');
    chmodSync(secrets, 0o755);
    chmodSync(join(secrets, 'etcd'), 0o750);
    chmodSync(join(secrets, 'ca.key'), 0o644);
    chmodSync(join(secrets, 'tokens.json'), 0o640);
    chmodSync(join(secrets, 'sa.key'), 0o604);
    const r = await gen(work, runbook());
    assert.is(r.code, 0, r.err);
    for (const [path, was, now] of [
      [secrets, '0755', '0700'],
      [join(secrets, 'etcd'), '0750', '0700'],
      [join(secrets, 'ca.key'), '0644', '0600'],
      [join(secrets, 'tokens.json'), '0640', '0600'],
      [join(secrets, 'sa.key'), '0604', '0600'],
    ]) {
      assert.match(r.err, `warning: ${path} was ${was}, open to other users: set to ${now}`);
    }
    assert.is(statSync(secrets).mode & 0o777, 0o700);
    assert.is(statSync(join(secrets, 'etcd')).mode & 0o777, 0o700);
    assert.is(statSync(join(secrets, 'ca.key')).mode & 0o777, 0o600);
    assert.is(statSync(join(secrets, 'tokens.json')).mode & 0o777, 0o600);
    assert.is(statSync(join(secrets, 'sa.key')).mode & 0o777, 0o600, 'readable by others only is open too');
    const again = await gen(work, runbook());
    assert.not.match(withoutEndOfLife(again.err), 'warning');
  } finally {
    cleanup(work);
  }
});

test.run();
