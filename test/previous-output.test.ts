/**
 * The previous output folder is input too, and read as hostile: gen diff reviews every entry type GNU tar extracts,
 * follows no link in out/, prints no escape sequence; SHA256SUMS decides nothing; a removed host's bundle goes even
 * without SHA256SUMS; the upgrade guard reads the version from any Kubernetes node's previous bundle.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readTarball } from '../src/bundle/untar.js';
import { cleanup, REPO, ROOT, tempDir, testNeeding, type InventoryDoc } from './helpers.js';

const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');
const runbook = (): InventoryDoc => JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));

/** A work folder with an inventory, generated once into out/ and secrets/. */
function generated(doc: InventoryDoc = runbook()) {
  const work = tempDir();
  writeFileSync(join(work, 'inventory.json'), JSON.stringify(doc));
  const r = gen(work, []);
  assert.is(r.code, 0, r.err);
  return work;
}

/** The real gen in `work` (default folders out and secrets), bounded in time: a read of a pipe would hang. */
function gen(work: string, args: string[], inventory = 'inventory.json') {
  const command = args[0] === 'diff' || args[0] === 'check' || args[0] === 'plan' ? [args[0], inventory, ...args.slice(1)] : [inventory, ...args];
  const r = spawnSync('node', [BIN, ...command], { cwd: work, encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The control characters (C0 but newline, DEL, C1) in a text, as their codes. */
function controls(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0)).filter((code) => (code < 0x20 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f));
}

testNeeding(
  ['tar', 'mknod', 'mkfifo', ROOT],
  'gen diff shows every entry type GNU tar would extract as what it is, escapes control characters, and gen replaces the bundle',
  () => {
    const work = generated();
    try {
      // A previous worker2 bundle made by GNU tar from a real tree: a link in place of a file, a device, a pipe, a hard
      // link, an extra folder, a folder with another mode, a name and content with escape sequences, an entry outside.
      const tree = join(work, 'tree');
      mkdirSync(tree);
      execFileSync('tar', ['-xzf', join(work, 'out', 'worker2.tar.gz'), '-C', tree]);
      const host = join(tree, 'worker2');
      rmSync(join(host, 'rootfs/etc/crictl.yaml'));
      symlinkSync('/etc/shadow', join(host, 'rootfs/etc/crictl.yaml'));
      execFileSync('chmod', ['0777', join(host, 'rootfs/etc/sysctl.d')]);
      execFileSync('ln', [join(host, 'run.sh'), join(host, 'hard')]);
      execFileSync('mknod', [join(host, 'dev'), 'c', '1', '5']);
      execFileSync('mkfifo', [join(host, 'fifo')]);
      mkdirSync(join(host, 'extra'));
      writeFileSync(join(host, 'esc\x1b]0;pwned\x07name'), 'hello \x1b[2J world\n');
      writeFileSync(join(host, 'csi\u009b2J'), 'C1 CSI in UTF-8\n');
      writeFileSync(join(tree, 'escape'), 'x\n');
      const tarball = join(work, 'out', 'worker2.tar.gz');
      execFileSync('tar', ['--format=pax', '-P', '--transform=s,^escape$,../escape,', '-czf', tarball, '-C', tree, 'worker2', 'escape']);
      execFileSync('chmod', ['0600', tarball]);
      const diff = gen(work, ['diff']);
      assert.is(diff.code, 0, diff.err);
      assert.equal(controls(diff.out + diff.err), [], 'no control character but newline reaches the terminal');
      assert.ok(
        diff.out.includes(
          [
            'worker2: changed',
            '  - ../escape: a file (0644) outside the host folder',
            '  - csi\\u009b2J',
            '  - dev: a character device 1,5',
            '  - esc\\x1b]0;pwned\\x07name',
            '  - extra/: a folder (0755)',
            '  - fifo: a named pipe',
            '  - hard: a hard link to worker2/run.sh',
            '  ~ rootfs/etc/crictl.yaml: a symbolic link to /etc/shadow -> a file',
            '  ~ rootfs/etc/sysctl.d/: a folder (0777) -> a folder (0755)',
            '0 hosts added, 0 removed, 1 changed, 4 unchanged',
          ].join('\n'),
        ),
        diff.out,
      );
      const jsonText = gen(work, ['diff', '--json']).out;
      assert.equal(controls(jsonText), [], 'no control character in the JSON either (C1 escaped as \\u009b)');
      const json = JSON.parse(jsonText);
      assert.ok(
        json.hosts.some((h: { files: { path: string }[] }) => h.files.some((f) => f.path === 'csi\u009b2J')),
        'the JSON holds the name itself',
      );
      const worker2 = json.hosts.find((h: { host: string }) => h.host === 'worker2');
      assert.equal(
        worker2.files.find((f: { path: string }) => f.path === 'fifo'),
        { path: 'fifo', change: 'removed', detail: 'a named pipe' },
      );
      const check = gen(work, ['check']);
      assert.is(check.code, 1);
      assert.match(check.err, '  worker2.tar.gz: differs');
      const again = gen(work, ['--quiet']);
      assert.is(again.code, 0, again.err);
      assert.is(gen(work, ['check']).code, 0, 'gen replaced the bundle');
    } finally {
      cleanup(work);
    }
  },
);

testNeeding(['tar'], 'the tar reader names entries and link targets as GNU tar lists them, in every format GNU tar writes', () => {
  const work = tempDir();
  try {
    const host = join(work, 'h');
    const deep = join(host, 'rootfs', 'a'.repeat(60), 'b'.repeat(60), 'c'.repeat(40));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, `${'f'.repeat(90)}.conf`), 'deep\n');
    writeFileSync(join(host, 'run.sh'), '#!/bin/sh\n');
    writeFileSync(join(host, 'größe.txt'), 'utf-8 name\n');
    symlinkSync(`/${'t'.repeat(120)}/target`, join(host, 'long-link'));
    execFileSync('ln', [join(host, 'run.sh'), join(host, 'hard')]);
    for (const format of ['gnu', 'oldgnu', 'pax', 'posix', 'ustar']) {
      const tarball = join(work, `${format}.tar.gz`);
      const made = spawnSync('tar', [`--format=${format}`, '-czf', tarball, '-C', work, 'h']);
      if (made.status !== 0) continue; // ustar cannot hold the long link target: GNU tar refuses, nothing to compare
      const listed = execFileSync('tar', ['-tvzf', tarball], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/).slice(5).join(' ').replace(' link to ', ' => '))
        .sort();
      const read = readTarball(readFileSync(tarball), 'h')
        .map(
          (e) =>
            `h/${e.path}${e.type === 'folder' ? '/' : ''}`.replace(/^h\/\/$/, 'h/') + (e.target ? ` ${e.type === 'hard link' ? '=>' : '->'} ${e.target}` : ''),
        )
        .sort();
      assert.equal(read, listed, format);
    }
  } finally {
    cleanup(work);
  }
});

test('a link in out/ is never followed: gen diff and check do not print what it points to; gen replaces it', () => {
  const work = generated();
  try {
    const secretFile = join(work, 'outside-secret.txt');
    writeFileSync(secretFile, 'password: hunter2\n');
    const site = join(work, 'out', 'ansible', 'site.yml');
    rmSync(site);
    symlinkSync(secretFile, site);
    const diff = gen(work, ['diff']);
    assert.is(diff.code, 0, diff.err);
    assert.not.match(diff.out, 'hunter2');
    assert.match(diff.out, `out/ansible: changed\n  ! ansible/site.yml cannot be reviewed: a link to ${secretFile}, not a file: kubeha does not read it\n`);
    const check = gen(work, ['check']);
    assert.is(check.code, 1);
    assert.not.match(check.err, 'hunter2');
    assert.match(check.err, `  ansible/site.yml: cannot be read: a link to ${secretFile}, not a file: kubeha does not read it\n`);
    // The folder itself a link: not read through, and gen does not write through it either.
    rmSync(site);
    execFileSync('mv', [join(work, 'out', 'ansible'), join(work, 'elsewhere')]);
    symlinkSync(join(work, 'elsewhere'), join(work, 'out', 'ansible'));
    assert.match(
      gen(work, ['diff']).out,
      `ansible/inventory.ini cannot be reviewed: out/ansible on its way is a link to ${join(work, 'elsewhere')}, not a folder`,
    );
    const refused = gen(work, []);
    assert.is(refused.code, 1);
    assert.match(
      refused.err,
      `output: out/ansible is a link to ${join(work, 'elsewhere')} where kubeha writes a folder of its own; kubeha does not delete it or write through it: move it out of out\n`,
    );
    assert.equal(readdirSync(join(work, 'elsewhere')), ['inventory.ini'], 'nothing was written through the link');
    rmSync(join(work, 'out', 'ansible'));
    assert.is(gen(work, ['--quiet']).code, 0);
    assert.is(readFileSync(secretFile, 'utf8'), 'password: hunter2\n');
  } finally {
    cleanup(work);
  }
});

test('SHA256SUMS decides nothing: lines naming a folder, a link, .. or an absolute path delete nothing; a damaged one is repaired', () => {
  const work = generated();
  try {
    const out = join(work, 'out');
    mkdirSync(join(out, 'notes'));
    writeFileSync(join(out, 'notes', 'rollout.md'), 'mine\n');
    writeFileSync(join(out, 'keep.txt'), 'mine too\n');
    symlinkSync('keep.txt', join(out, 'link'));
    writeFileSync(join(work, 'beside.txt'), 'beside\n');
    const hash = '0'.repeat(64);
    writeFileSync(
      join(out, 'SHA256SUMS'),
      ['notes', 'notes/rollout.md', 'keep.txt', 'link', '../beside.txt', join(work, 'beside.txt'), 'ansible'].map((n) => `${hash}  ${n}\n`).join(''),
    );
    const check = gen(work, ['check']);
    assert.is(check.code, 1);
    assert.match(check.err, '  SHA256SUMS: differs');
    const r = gen(work, ['--quiet']);
    assert.is(r.code, 0, r.err);
    assert.is(readFileSync(join(out, 'notes', 'rollout.md'), 'utf8'), 'mine\n');
    assert.is(readFileSync(join(out, 'keep.txt'), 'utf8'), 'mine too\n');
    assert.is(readlinkSync(join(out, 'link')), 'keep.txt');
    assert.is(readFileSync(join(work, 'beside.txt'), 'utf8'), 'beside\n');
    assert.is(spawnSync('sha256sum', ['--strict', '-c', 'SHA256SUMS'], { cwd: out }).status, 0, 'SHA256SUMS is whole again');
    assert.is(gen(work, ['check']).code, 0);
  } finally {
    cleanup(work);
  }
});

test("without SHA256SUMS a removed host's bundle (with its bootstrap token) still goes; a foreign tarball and a copy under another name stay", () => {
  const work = generated();
  try {
    const out = join(work, 'out');
    rmSync(join(out, 'SHA256SUMS'));
    execFileSync('cp', [join(out, 'worker2.tar.gz'), join(out, 'worker2-backup.tar.gz')]);
    execFileSync('tar', ['-czf', join(out, 'photos.tar.gz'), '-C', work, 'inventory.json']);
    writeFileSync(join(out, 'notes.tar.gz'), 'not even gzip');
    const doc = runbook();
    doc.hosts = doc.hosts.filter((h: { name: string }) => h.name !== 'worker2');
    writeFileSync(join(work, 'inventory.json'), JSON.stringify(doc));
    const diff = gen(work, ['diff']);
    assert.match(diff.out, /^worker2: removed \(\d+ files\)$/m);
    const check = gen(work, ['check']);
    assert.match(check.err, '  worker2.tar.gz: not produced by the inventory');
    assert.not.match(check.err, 'photos');
    const r = gen(work, ['--quiet']);
    assert.is(r.code, 0, r.err);
    assert.not.ok(existsSync(join(out, 'worker2.tar.gz')), "the removed host's bundle is gone");
    for (const kept of ['worker2-backup.tar.gz', 'photos.tar.gz', 'notes.tar.gz']) assert.ok(existsSync(join(out, kept)), kept);
    assert.is(gen(work, ['check']).code, 0);
  } finally {
    cleanup(work);
  }
});

const versioned = (version: string, first = 'cp1'): InventoryDoc => ({
  cluster: { name: 'up', kubernetesVersion: version, podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' },
  loadBalancer: { vip: '127.0.4.100' },
  etcd: { version: '3.5.24' },
  hosts: [
    { name: first, address: '127.0.4.1', roles: ['control-plane'] },
    { name: 'cp2', address: '127.0.4.2', roles: ['control-plane'] },
    { name: 'w1', address: '127.0.4.3', roles: ['worker'] },
    { name: 'etcd1', address: '127.0.4.4', roles: ['etcd'] },
  ],
});

test('the upgrade guard reads the version from any Kubernetes node of the previous output, and refuses when none can be read', () => {
  const work = generated(versioned('1.33.5'));
  try {
    const inventory = (doc: InventoryDoc) => writeFileSync(join(work, 'inventory.json'), JSON.stringify(doc));
    // A new first control plane (cp0): the previous version comes from cp2's or w1's bundle.
    inventory(versioned('1.35.0', 'cp0'));
    for (const command of [[], ['plan'], ['diff'], ['check']]) {
      const r = gen(work, command);
      assert.is(r.code, 1, `${command}: ${r.out}`);
      assert.match(r.err, 'inventory.json /cluster/kubernetesVersion: the previous output (out/cp2.tar.gz) was made for Kubernetes 1.33.5: 1.35.0 skips 1.34');
    }
    inventory(versioned('1.33.4', 'cp0'));
    assert.match(gen(work, ['plan']).err, 'was made for Kubernetes 1.33.5: kubeadm cannot downgrade');
    // The first control plane's bundle damaged: cp2's tells the version.
    writeFileSync(join(work, 'out', 'cp1.tar.gz'), readFileSync(join(work, 'out', 'cp1.tar.gz')).subarray(0, 1000));
    inventory(versioned('1.35.0'));
    assert.match(gen(work, ['plan']).err, 'the previous output (out/cp2.tar.gz) was made for Kubernetes 1.33.5: 1.35.0 skips 1.34');
    // No Kubernetes node's bundle readable: refused, naming each, with the way out.
    writeFileSync(join(work, 'out', 'cp2.tar.gz'), 'garbage');
    rmSync(join(work, 'out', 'w1.tar.gz'));
    symlinkSync('/dev/zero', join(work, 'out', 'w1.tar.gz'));
    const unknown = gen(work, ['plan']);
    assert.is(unknown.code, 1);
    assert.match(
      unknown.err,
      "inventory.json /cluster/kubernetesVersion: the previous output (out) holds bundles of this inventory's hosts, but none tells the Kubernetes version they were made for " +
        '(out/cp1.tar.gz: cut short: the gzip data ends early; out/cp2.tar.gz: not gzip data, or damaged (incorrect header check); out/w1.tar.gz: a link to /dev/zero, not a tarball: kubeha does not read it)',
    );
    assert.match(unknown.err, 'generate with --force-version-change');
    const before = readFileSync(join(work, 'out', 'cp2.tar.gz'));
    assert.is(gen(work, []).code, 1);
    assert.ok(readFileSync(join(work, 'out', 'cp2.tar.gz')).equals(before), 'nothing written');
    const forced = gen(work, ['--force-version-change', '--quiet']);
    assert.is(forced.code, 0, forced.err);
    assert.match(forced.err, 'warning: --force-version-change: going ahead although the Kubernetes version of out cannot be read');
    assert.is(gen(work, ['check']).code, 0);
  } finally {
    cleanup(work);
  }
});

test.run();
