import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { caCertHash } from '../src/render/ca-cert-hash.js';
import { expiringCertificates } from '../src/pki/inspect.js';
import { X509Certificate } from 'node:crypto';
import { REPO, cleanup, runCli, snapshot, tempDir, testNeeding, walk, withoutEndOfLife } from './helpers.js';

const runbook = () => JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));

async function gen(work: string, doc: unknown, extra: string[] = []) {
  writeFileSync(join(work, 'inventory.json'), JSON.stringify(doc, null, 2));
  return runCli([join(work, 'inventory.json'), '--out', join(work, 'out'), '--secrets', join(work, 'secrets'), ...extra]);
}

const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' });

testNeeding(['openssl'], 'a fresh run makes a PKI that openssl verifies: chains, SANs, usages, key pairs, CA hash', async () => {
  const work = tempDir();
  try {
    const r = await gen(work, runbook());
    assert.is(r.code, 0, r.err);
    const s = (p: string) => join(work, 'secrets', p);
    for (const member of ['ceph1', 'ceph2', 'ceph3']) {
      for (const kind of ['server', 'peer']) {
        const crt = s(`etcd/${member}-${kind}.crt`);
        assert.is(openssl('verify', '-CAfile', s('etcd/ca.crt'), crt).trim(), `${crt}: OK`);
        const ext = openssl('x509', '-noout', '-ext', 'subjectAltName,extendedKeyUsage', '-in', crt);
        const address = runbook().hosts.find((h: any) => h.name === member).address;
        assert.match(ext, `DNS:${member}, DNS:localhost, IP Address:${address}, IP Address:127.0.0.1`);
        assert.match(ext, 'TLS Web Server Authentication, TLS Web Client Authentication');
      }
    }
    const client = openssl('x509', '-noout', '-subject', '-ext', 'extendedKeyUsage', '-in', s('apiserver-etcd-client.crt'));
    assert.match(client, 'CN = kube-apiserver-etcd-client');
    assert.match(client, 'TLS Web Client Authentication');
    assert.not.match(client, 'Server Authentication');
    assert.is(openssl('verify', '-CAfile', s('etcd/ca.crt'), s('apiserver-etcd-client.crt')).trim(), `${s('apiserver-etcd-client.crt')}: OK`);
    for (const ca of ['ca', 'front-proxy-ca', 'etcd/ca']) {
      assert.match(openssl('x509', '-noout', '-ext', 'basicConstraints', '-in', s(`${ca}.crt`)), 'CA:TRUE');
      assert.is(openssl('verify', '-CAfile', s(`${ca}.crt`), s(`${ca}.crt`)).trim(), `${s(`${ca}.crt`)}: OK`);
    }
    for (const stem of ['ca', 'front-proxy-ca', 'etcd/ca', 'etcd/ceph1-server', 'etcd/ceph2-peer', 'apiserver-etcd-client']) {
      const fromKey = openssl('pkey', '-in', s(`${stem}.key`), '-pubout');
      const fromCert = openssl('x509', '-in', s(`${stem}.crt`), '-noout', '-pubkey');
      assert.is(fromKey, fromCert, `${stem}.key matches ${stem}.crt`);
    }
    assert.is(openssl('pkey', '-in', s('sa.key'), '-pubout'), readFileSync(s('sa.pub'), 'utf8'), 'sa.pub is the public half of sa.key');
    const der = execFileSync('sh', ['-c', `openssl x509 -pubkey -noout -in '${s('ca.crt')}' | openssl pkey -pubin -outform der | sha256sum`], {
      encoding: 'utf8',
    });
    assert.is(caCertHash(readFileSync(s('ca.crt'), 'utf8')), `sha256:${der.split(' ')[0]}`);
    const days = (p: string) => (new Date(openssl('x509', '-noout', '-enddate', '-in', p).split('=')[1]!).getTime() - Date.now()) / 86400e3;
    assert.ok(Math.abs(days(s('ca.crt')) - 3650) < 1, 'CA valid ten years');
    assert.ok(Math.abs(days(s('etcd/ceph1-server.crt')) - 365) < 1, 'leaf valid one year');
    const tokens = JSON.parse(readFileSync(s('tokens.json'), 'utf8'));
    assert.match(tokens.bootstrapToken, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    assert.match(tokens.vrrpPassword, /^[A-Za-z0-9]{8}$/, 'keepalived reads at most 8 characters of auth_pass: use all 8');
    for (const secret of [tokens.bootstrapToken, tokens.vrrpPassword, tokens.haproxyStatsPassword, 'PRIVATE KEY']) {
      assert.not.ok(r.out.includes(secret) || r.err.includes(secret), 'no secret is printed');
    }
  } finally {
    cleanup(work);
  }
});

test('the secrets folder is 0700 with 0600 files; the output holds no unpacked secret', async () => {
  const work = tempDir();
  try {
    assert.is((await gen(work, runbook())).code, 0);
    assert.is(statSync(join(work, 'secrets')).mode & 0o777, 0o700);
    assert.is(statSync(join(work, 'secrets', 'etcd')).mode & 0o777, 0o700);
    for (const p of walk(join(work, 'secrets'))) assert.is(statSync(join(work, 'secrets', p)).mode & 0o777, 0o600, p);
    const out = readdirSync(join(work, 'out')).sort();
    assert.equal(out, ['SHA256SUMS', 'ansible', 'ceph1.tar.gz', 'ceph2.tar.gz', 'ceph3.tar.gz', 'cluster.svg', 'worker1.tar.gz', 'worker2.tar.gz']);
    for (const name of out.filter((n) => n.endsWith('.tar.gz'))) assert.is(statSync(join(work, 'out', name)).mode & 0o777, 0o600, `${name} holds keys: 0600`);
  } finally {
    cleanup(work);
  }
});

test('keys in tarballs are 0600; workers get no private key; the etcd CA key goes to no host', async () => {
  const work = tempDir();
  try {
    const doc = runbook();
    doc.hosts.push({ name: 'node1', address: '10.0.8.30', roles: ['worker'] });
    assert.is((await gen(work, doc)).code, 0);
    const etcdCaKey = readFileSync(join(work, 'secrets', 'etcd', 'ca.key'), 'utf8').trim();
    for (const host of ['worker1', 'ceph1', 'node1']) {
      const listing = execFileSync('tar', ['-tvzf', join(work, 'out', `${host}.tar.gz`)], { encoding: 'utf8' })
        .trim()
        .split('\n');
      const keys = listing.filter((l) => /\.key$/.test(l));
      for (const line of keys) assert.ok(line.startsWith('-rw-------'), line);
      if (host === 'node1') assert.equal(keys, [], 'a worker gets no private key');
      if (host === 'ceph1')
        assert.equal(
          keys.map((l) => l.split(/\s+/).pop()),
          ['ceph1/rootfs/etc/etcd/pki/peer.key', 'ceph1/rootfs/etc/etcd/pki/server.key'],
        );
      const content = execFileSync('tar', ['-xzOf', join(work, 'out', `${host}.tar.gz`)], { encoding: 'utf8', maxBuffer: 64 << 20 });
      assert.not.ok(content.includes(etcdCaKey), `${host} must not hold the etcd CA key`);
    }
  } finally {
    cleanup(work);
  }
});

test('re-running changes nothing: same secrets, byte-identical tarballs', async () => {
  const work = tempDir();
  try {
    assert.is((await gen(work, runbook())).code, 0);
    const secrets = snapshot(join(work, 'secrets'));
    const out = snapshot(join(work, 'out'));
    const again = await gen(work, runbook());
    assert.is(again.code, 0);
    assert.not.match(again.out, 'secrets:', 'nothing generated on a re-run');
    assert.equal(snapshot(join(work, 'secrets')), secrets);
    const out2 = snapshot(join(work, 'out'));
    assert.equal([...out2.keys()], [...out.keys()]);
    for (const [name, bytes] of out) assert.ok(bytes.equals(out2.get(name)!), `${name} is byte-identical`);
  } finally {
    cleanup(work);
  }
});

test('adding a worker issues nothing; adding an etcd member issues only its certificates', async () => {
  const work = tempDir();
  try {
    const doc = runbook();
    assert.is((await gen(work, doc)).code, 0);
    const before = snapshot(join(work, 'secrets'));
    doc.hosts.push({ name: 'node1', address: '10.0.8.30', roles: ['worker'] });
    const added = await gen(work, doc);
    assert.is(added.code, 0);
    assert.equal(snapshot(join(work, 'secrets')), before);
    doc.hosts.push({ name: 'ceph4', address: '172.21.16.20', roles: ['etcd'] }, { name: 'ceph5', address: '172.21.16.21', roles: ['etcd'] });
    const grown = await gen(work, doc);
    assert.is(grown.code, 0, grown.err);
    const after = snapshot(join(work, 'secrets'));
    const changed = [...after.keys()].filter((p) => !before.get(p)?.equals(after.get(p)!));
    assert.equal(changed.sort(), [
      'etcd/ceph4-peer.crt',
      'etcd/ceph4-peer.key',
      'etcd/ceph4-server.crt',
      'etcd/ceph4-server.key',
      'etcd/ceph5-peer.crt',
      'etcd/ceph5-peer.key',
      'etcd/ceph5-server.crt',
      'etcd/ceph5-server.key',
    ]);
    assert.match(grown.out, 'secrets: issued etcd/ceph4-server.crt');
  } finally {
    cleanup(work);
  }
});

testNeeding(['openssl'], "changing an address re-issues that member's certificates from the same CA; removing a host changes nothing else", async () => {
  const work = tempDir();
  try {
    const doc = runbook();
    assert.is((await gen(work, doc)).code, 0);
    const before = snapshot(join(work, 'secrets'));
    doc.hosts[3].address = '172.21.16.60';
    const moved = await gen(work, doc);
    assert.is(moved.code, 0, moved.err);
    assert.match(moved.out, 're-issued (SANs changed) etcd/ceph2-server.crt');
    const after = snapshot(join(work, 'secrets'));
    const changed = [...after.keys()].filter((p) => !before.get(p)!.equals(after.get(p)!));
    assert.equal(changed.sort(), ['etcd/ceph2-peer.crt', 'etcd/ceph2-peer.key', 'etcd/ceph2-server.crt', 'etcd/ceph2-server.key']);
    const crt = join(work, 'secrets', 'etcd', 'ceph2-server.crt');
    assert.match(openssl('x509', '-noout', '-ext', 'subjectAltName', '-in', crt), 'IP Address:172.21.16.60');
    assert.is(openssl('verify', '-CAfile', join(work, 'secrets', 'etcd', 'ca.crt'), crt).trim(), `${crt}: OK`);
    doc.hosts.splice(1, 1);
    const removed = await gen(work, doc);
    assert.is(removed.code, 0, removed.err);
    assert.equal(snapshot(join(work, 'secrets')), after, 'removing a host leaves every secret as it was');
    assert.not.ok(existsSync(join(work, 'out', 'worker2.tar.gz')), 'the removed host has no bundle any more');
  } finally {
    cleanup(work);
  }
});

test('a CA key that does not match its certificate stops the run: exit 1, nothing rewritten', async () => {
  const work = tempDir();
  try {
    assert.is((await gen(work, runbook())).code, 0);
    // Tamper: put the front-proxy CA key in place of the cluster CA key.
    writeFileSync(join(work, 'secrets', 'ca.key'), readFileSync(join(work, 'secrets', 'front-proxy-ca.key')));
    const secrets = snapshot(join(work, 'secrets'));
    const out = snapshot(join(work, 'out'));
    const r = await gen(work, runbook());
    assert.is(r.code, 1);
    assert.is(
      withoutEndOfLife(r.err),
      'secrets: ca.key: does not match the public key of ca.crt; restore both from your backup (kubeha never replaces a CA)\nNothing was written.\n',
    );
    assert.equal(snapshot(join(work, 'secrets')), secrets);
    assert.equal(snapshot(join(work, 'out')), out);
  } finally {
    cleanup(work);
  }
});

test('a half-written secrets folder stops the run with a clear message', async () => {
  const work = tempDir();
  try {
    assert.is((await gen(work, runbook())).code, 0);
    const crt = join(work, 'secrets', 'etcd', 'ca.crt');
    const whole = readFileSync(crt);
    writeFileSync(crt, whole.subarray(0, 100));
    let r = await gen(work, runbook());
    assert.is(r.code, 1);
    assert.match(r.err, `secrets: ${crt}: not a complete PEM file (empty or cut short?); restore it from your backup`);
    writeFileSync(crt, whole);
    execFileSync('rm', [join(work, 'secrets', 'ca.key')]);
    r = await gen(work, runbook());
    assert.is(r.code, 1);
    assert.is(
      withoutEndOfLife(r.err),
      'secrets: ca.key: missing while ca.crt exists; restore it from your backup (kubeha never replaces a CA)\nNothing was written.\n',
    );
    writeFileSync(join(work, 'secrets', 'tokens.json'), '{"bootstrapToken": "abcdef.0123456789abcdef"}');
    r = await gen(work, runbook());
    assert.is(r.code, 1);
    assert.match(r.err, '"vrrpPassword" is missing or malformed');
  } finally {
    cleanup(work);
  }
});

test('a leaf not issued by the stored CA is refused, not silently replaced', async () => {
  const a = tempDir();
  const b = tempDir();
  try {
    assert.is((await gen(a, runbook())).code, 0);
    assert.is((await gen(b, runbook())).code, 0);
    for (const ext of ['crt', 'key'])
      writeFileSync(join(a, 'secrets', 'etcd', `ceph1-server.${ext}`), readFileSync(join(b, 'secrets', 'etcd', `ceph1-server.${ext}`)));
    const r = await gen(a, runbook());
    assert.is(r.code, 1);
    assert.match(
      r.err,
      'etcd/ceph1-server.crt: not issued by the stored CA CN=etcd-ca; delete etcd/ceph1-server.crt and etcd/ceph1-server.key to have them issued again',
    );
  } finally {
    cleanup(a);
    cleanup(b);
  }
});

testNeeding(['openssl'], 'RSA-2048 keys are an option and verify too', async () => {
  const work = tempDir();
  try {
    const doc = runbook();
    doc.cluster.certificates = { keyAlgorithm: 'rsa-2048', leafValidityDays: 90 };
    assert.is((await gen(work, doc)).code, 0);
    const crt = join(work, 'secrets', 'etcd', 'ceph3-peer.crt');
    assert.match(openssl('x509', '-noout', '-text', '-in', crt), 'Public-Key: (2048 bit)');
    assert.is(openssl('verify', '-CAfile', join(work, 'secrets', 'etcd', 'ca.crt'), crt).trim(), `${crt}: OK`);
  } finally {
    cleanup(work);
  }
});

testNeeding(['openssl'], 'a certificate is "expiring" from exactly `days` before its notAfter on, not a day later or earlier', () => {
  const work = tempDir();
  try {
    const key = join(work, 'k.pem');
    const crt = join(work, 'c.pem');
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '400', '-subj', '/CN=t', '-keyout', key, '-out', crt);
    const pem = readFileSync(crt, 'utf8');
    const notAfter = new Date(new X509Certificate(pem).validTo).getTime();
    const files = new Map([['t.crt', pem]]);
    const HOUR = 3_600_000;
    const at = (ms: number) => expiringCertificates(files, new Date(ms), 30).map((c) => c.path);
    assert.equal(at(notAfter - 30 * 24 * HOUR + HOUR), ['t.crt'], 'an hour inside the 30-day window');
    assert.equal(at(notAfter - 30 * 24 * HOUR - HOUR), [], 'an hour before the window');
  } finally {
    cleanup(work);
  }
});

test('gen certs lists every certificate and warns about those expiring within 30 days', async () => {
  const work = tempDir();
  try {
    const doc = runbook();
    doc.cluster.certificates = { leafValidityDays: 10 };
    assert.is((await gen(work, doc)).code, 0);
    const r = await runCli(['certs', '--secrets', join(work, 'secrets')]);
    assert.is(r.code, 0);
    assert.match(
      r.out,
      'etcd/ceph2-server.crt\n  subject  CN=ceph2, issued by CN=etcd-ca\n' +
        "  for      the member's certificate for its clients (the API servers, etcdctl)\n  hosts    ceph2 (etcd member)\n" +
        '  renewal  gen certs renew; run.sh installs it on its member and restarts etcd there\n  SANs     ceph2, localhost, 172.21.16.6, 127.0.0.1\n',
    );
    assert.match(r.out, /ca\.crt\n {2}subject {2}CN=kubernetes \(CA\)/);
    assert.match(r.out, "  renewal  kubeha never replaces a CA: a new one needs kubeadm's manual CA rotation\n");
    assert.is((r.out.match(/WARNING: renew it/g) ?? []).length, 7, 'the seven leaves expire in 10 days');
    assert.is(r.err, `warning: 7 certificate(s) expire within 30 days: run gen certs renew --secrets ${join(work, 'secrets')}, then gen again\n`);
    assert.not.match(r.out, 'PRIVATE KEY');
  } finally {
    cleanup(work);
  }
});

test('no run.sh and no log line holds a token or password: they live only in the 0600 files that need them', async () => {
  const { compileDoc } = await import('./helpers.js');
  const { hosts, secrets } = await compileDoc(runbook());
  // The etcd cluster token only keeps members of different clusters apart; it grants nothing, and the unit shows it.
  const { etcdClusterToken: _notSecret, ...rest } = secrets.tokens!;
  const values = Object.values(rest);
  const holders: string[] = [];
  for (const [host, files] of hosts) {
    const script = files.get('run.sh')!.bytes.toString('utf8');
    for (const v of values) assert.not.ok(script.includes(v), `${host}/run.sh holds a secret`);
    for (const f of files.values()) {
      if (!values.some((v) => f.bytes.includes(v))) continue;
      assert.is(f.mode, 0o600, `${host}/${f.path} holds a secret: 0600`);
      holders.push(`${host}/${f.path}`);
    }
  }
  // The check above looked at real holders: the files that must carry the tokens do.
  for (const path of [
    'worker1/rootfs/etc/kubernetes/kubeadm-config.yaml',
    'worker1/rootfs/etc/keepalived/keepalived.conf',
    'worker1/rootfs/etc/haproxy/haproxy.cfg',
  ]) {
    assert.ok(holders.includes(path), `${path} carries a token (holders: ${holders.join(', ')})`);
  }
});

test.run();
