import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO, cleanup, runCli, snapshot, tempDir } from './helpers.js';
import { diffBundles, formatDiff } from '../src/review/diff.js';

const runbook = () => JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));

async function setup(doc: unknown) {
  const work = tempDir();
  const inventory = join(work, 'inventory.json');
  writeFileSync(inventory, JSON.stringify(doc, null, 2));
  const args = ['--out', join(work, 'out'), '--secrets', join(work, 'secrets')];
  return { work, inventory, args };
}

test('check passes on fresh output and fails (exit 1) when the inventory or the output changed', async () => {
  const { work, inventory, args } = await setup(runbook());
  try {
    assert.is((await runCli([inventory, ...args, '--quiet'])).code, 0);
    const ok = await runCli(['check', inventory, ...args]);
    assert.is(ok.code, 0, ok.err);
    assert.match(ok.out, 'is up to date with');
    assert.is((await runCli([inventory, '--check', ...args])).code, 0, '--check is the same as check');
    const doc = runbook();
    doc.cluster.kubeProxyMode = 'iptables';
    writeFileSync(inventory, JSON.stringify(doc));
    const stale = await runCli(['check', inventory, ...args]);
    assert.is(stale.code, 1);
    assert.match(stale.err, 'worker1.tar.gz: differs');
    assert.not.match(stale.err, 'ceph1.tar.gz', 'etcd hosts are not affected by the proxy mode');
    assert.match(stale.err, 'Run: gen');
    writeFileSync(inventory, JSON.stringify(runbook()));
    writeFileSync(join(work, 'out', 'ceph2.tar.gz'), 'garbage');
    assert.is((await runCli(['check', inventory, ...args])).code, 1);
  } finally {
    cleanup(work);
  }
});

test('check fails when the secrets folder would need new files, and writes nothing', async () => {
  const { work, inventory, args } = await setup(runbook());
  try {
    const r = await runCli(['check', inventory, ...args]);
    assert.is(r.code, 1);
    assert.match(r.err, 'lacks 23 files');
    assert.equal(readdirSync(work), ['inventory.json']);
  } finally {
    cleanup(work);
  }
});

test('diff: unchanged, changed (unified diff, redacted secrets), grown and shrunk inventories; writes nothing', async () => {
  const { work, inventory, args } = await setup(runbook());
  try {
    assert.is((await runCli([inventory, ...args, '--quiet'])).code, 0);
    const before = [snapshot(join(work, 'out')), snapshot(join(work, 'secrets'))];
    let r = await runCli(['diff', inventory, ...args]);
    assert.is(r.code, 0);
    assert.is(r.out, '0 hosts added, 0 removed, 0 changed, 5 unchanged\n');

    const doc = runbook();
    doc.hosts.push({ name: 'node1', address: '10.0.8.40', roles: ['worker'] });
    doc.hosts = doc.hosts.filter((h: any) => h.name !== 'ceph3');
    doc.hosts.push({ name: 'ceph4', address: '172.21.16.40', roles: ['etcd'] });
    writeFileSync(inventory, JSON.stringify(doc));
    r = await runCli(['diff', inventory, ...args]);
    assert.is(r.code, 0, r.err);
    assert.match(r.out, /^node1: added \(\d+ files\)$/m);
    assert.match(r.out, /^ceph3: removed \(\d+ files\)$/m);
    assert.match(r.out, /^ceph4: added/m);
    assert.match(r.out, /^ceph1: changed$/m);
    assert.match(r.out, 'secrets that gen would make or re-issue: etcd/ceph4-server.key');
    assert.match(r.out, /hosts added, 1 removed, \d+ changed, \d+ unchanged\n$/);
    const tokens = JSON.parse(readFileSync(join(work, 'secrets', 'tokens.json'), 'utf8'));
    for (const value of Object.values(tokens)) assert.not.match(r.out, String(value), 'tokens are redacted');
    assert.not.match(r.out, 'PRIVATE KEY');
    assert.equal([snapshot(join(work, 'out')), snapshot(join(work, 'secrets'))], before, 'diff writes nothing: no secrets made, no output changed');

    const json = await runCli(['diff', inventory, ...args, '--json']);
    const parsed = JSON.parse(json.out);
    assert.equal(
      parsed.hosts
        .map((h: any) => [h.host, h.change])
        .filter(([, c]: string[]) => c !== 'unchanged' && c !== 'changed')
        .sort(),
      [
        ['ceph3', 'removed'],
        ['ceph4', 'added'],
        ['node1', 'added'],
      ],
    );
  } finally {
    cleanup(work);
  }
});

test('diff hides a bootstrap token it was not told about (an old bundle made with a token no longer stored)', () => {
  const file = (token: string, name: string) => ({
    path: 'rootfs/etc/kubernetes/kubeadm-config.yaml',
    mode: 0o600,
    bytes: Buffer.from(`kind: JoinConfiguration\n${token}\nname: ${name}\n`),
  });
  const before = new Map([['w1', [file('abcdef.0123456789abcdef', 'w1')]]]);
  const after = new Map([['w1', [file('ghijkl.ghijklmnopqrstuv', 'w1b')]]]);
  const text = formatDiff(diffBundles(before, after, []));
  assert.match(text, 'kubeadm-config.yaml', 'the file is listed as changed');
  assert.not.match(text, 'abcdef.0123456789abcdef');
  assert.not.match(text, 'ghijkl.ghijklmnopqrstuv');
  assert.match(text, '<redacted bootstrapToken>');
});

test('diff shows certificate fingerprints and only "changed" for private keys', async () => {
  const { work, inventory, args } = await setup(runbook());
  try {
    assert.is((await runCli([inventory, ...args, '--quiet'])).code, 0);
    const doc = runbook();
    doc.hosts[2].address = '172.21.16.50';
    writeFileSync(inventory, JSON.stringify(doc));
    const r = await runCli(['diff', inventory, ...args]);
    assert.match(r.out, /~ rootfs\/etc\/etcd\/pki\/server\.crt\n {4}certificate SHA256 [0-9A-F:]{95}, expires \S+\n {4} +-> SHA256 [0-9A-F:]{95}, expires/);
    assert.match(r.out, '~ rootfs/etc/etcd/pki/server.key: private key changed');
  } finally {
    cleanup(work);
  }
});

test('certs renew re-issues expiring leaves from the same CAs, keeps their keys, and chains still verify', async () => {
  const doc = runbook();
  doc.cluster.certificates = { leafValidityDays: 20 };
  const { work, inventory, args } = await setup(doc);
  try {
    assert.is((await runCli([inventory, ...args, '--quiet'])).code, 0);
    const secrets = join(work, 'secrets');
    const before = snapshot(secrets);
    const warned = await runCli([inventory, ...args]);
    assert.match(
      warned.err,
      /^warning: 7 certificate\(s\) expire within 30 days \(first: .+\): run gen certs renew --secrets /m,
      'gen warns and says what to do',
    );
    const nothing = await runCli(['certs', 'renew', '--within', '10', '--secrets', secrets]);
    assert.is(nothing.code, 0);
    assert.match(nothing.out, 'nothing renewed');
    const r = await runCli(['certs', 'renew', '--within', '30', '--secrets', secrets]);
    assert.is(r.code, 0, r.err);
    assert.is((r.out.match(/^renewed /gm) ?? []).length, 7);
    const after = snapshot(secrets);
    const changed = [...after.keys()].filter((p) => !before.get(p)!.equals(after.get(p)!)).sort();
    assert.equal(
      changed,
      [
        'apiserver-etcd-client.crt',
        'etcd/ceph1-peer.crt',
        'etcd/ceph1-server.crt',
        'etcd/ceph2-peer.crt',
        'etcd/ceph2-server.crt',
        'etcd/ceph3-peer.crt',
        'etcd/ceph3-server.crt',
      ],
      'only leaf certificates change: CAs and keys stay',
    );
    const crt = join(secrets, 'etcd', 'ceph1-server.crt');
    // Node's own X.509 parser (not kubeha's code) checks the chain and the SANs.
    const cert = new X509Certificate(readFileSync(crt));
    assert.ok(cert.verify(new X509Certificate(readFileSync(join(secrets, 'etcd', 'ca.crt'))).publicKey), 'the renewed leaf is signed by the same etcd CA');
    assert.is(cert.subjectAltName, 'DNS:ceph1, DNS:localhost, IP Address:172.21.16.14, IP Address:127.0.0.1');
    const regenerated = await runCli([inventory, ...args]);
    assert.is(regenerated.code, 0);
    assert.not.match(regenerated.out, 'secrets:', 'renewed certificates are kept, not re-issued by gen');
    const diffAfter = await runCli(['check', inventory, ...args]);
    assert.is(diffAfter.code, 0);
  } finally {
    cleanup(work);
  }
});

test('--json output for validate, plan, gen and certs is parseable and complete', async () => {
  const { work, inventory, args } = await setup(runbook());
  try {
    const validate = JSON.parse((await runCli(['validate', inventory, '--json'])).out);
    assert.equal([validate.ok, validate.hosts], [true, 5]);
    const plan = JSON.parse((await runCli(['plan', inventory, '--json'])).out);
    assert.equal(
      plan.hosts.map((h: any) => h.step),
      [2, 3, 1, 1, 1],
    );
    const gen = JSON.parse((await runCli([inventory, ...args, '--json'])).out);
    assert.is(gen.ok, true);
    assert.is(gen.hosts.length, 5);
    assert.is(gen.secretsChanged.length, 23);
    const certs = JSON.parse((await runCli(['certs', '--secrets', join(work, 'secrets'), '--json'])).out);
    assert.is(certs.certificates.length, 10);
    const bad = join(work, 'bad.json');
    writeFileSync(bad, '{"cluster": {}, "hosts": []}');
    const invalid = await runCli(['validate', bad, '--json']);
    assert.is(invalid.code, 1);
    const errors = JSON.parse(invalid.out).errors;
    assert.ok(errors.some((e: any) => e.pointer === '/cluster' && e.message === 'missing required key "kubernetesVersion"'));
  } finally {
    cleanup(work);
  }
});

test('progress is drawn only on a terminal', async () => {
  const { work, inventory, args } = await setup({
    ...runbook(),
    hosts: [...runbook().hosts, ...Array.from({ length: 30 }, (_, i) => ({ name: `w${i}`, address: `10.0.9.${i + 1}`, roles: ['worker'] }))],
  });
  try {
    const { main } = await import('../src/cli/main.js');
    let tty = '';
    assert.is(
      await main([inventory, ...args, '--quiet'], {
        out: () => {},
        err: (t) => {
          tty += t;
        },
        tty: true,
      }),
      0,
    );
    assert.match(tty, 'building bundles 35/35 (100%)');
    const plain = await runCli([inventory, ...args]);
    assert.not.match(plain.err, 'building bundles');
  } finally {
    cleanup(work);
  }
});

test.run();
