/** The PKI's certificate list and the code it drives: issuing, renewing and checking stored certificates. */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { certificateAuthorities, keyPairs, leafCertificates, leafInstances, type LeafInstance } from '../src/pki/cert-list.js';
import { describeSecretChange, ensureSecrets } from '../src/pki/ensure.js';
import { issueLeaf, loadIssuingCa } from '../src/pki/issue.js';
import { renewLeaves } from '../src/pki/renew.js';
import type { Secrets } from '../src/pki/secrets.js';
import { cleanup, modelOf, REPO, tempDir, testNeeding } from './helpers.js';

const runbook = () => JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));
const empty = (): Secrets => ({ files: new Map(), tokens: null });

/** A Web Crypto that fails the test on any use: what x509 would fall back to if a call were not given one. */
const poisoned = new Proxy({} as Crypto, {
  get(_, key) {
    throw new Error(`x509's global crypto provider was used (${String(key)}): a call was not given the injected crypto`);
  },
});

test("issuing and renewing use only the injected Web Crypto: x509's global provider is neither read nor set", async () => {
  const before = x509.cryptoProvider.get();
  x509.cryptoProvider.set(poisoned);
  try {
    const model = modelOf(runbook());
    const now = new Date('2026-01-01T00:00:00Z');
    const made = await ensureSecrets(model, empty(), { now, crypto: globalThis.crypto });
    assert.ok(made.changes.length > 10, `${made.changes.length} files made`);
    assert.is(x509.cryptoProvider.get(), poisoned, 'ensureSecrets set the global provider');
    const renewed = await renewLeaves(made.secrets, 400, { now, crypto: globalThis.crypto });
    assert.is(renewed.renewed.length, 7, "three members x (server, peer) and the API servers' etcd client");
    assert.is(x509.cryptoProvider.get(), poisoned, 'renewLeaves set the global provider');
  } finally {
    x509.cryptoProvider.set(before);
  }
});

const deps = { now: new Date('2026-01-01T00:00:00Z'), crypto: globalThis.crypto };

/** The runbook's model and a complete set of secrets for it. */
async function runbookSecrets() {
  const model = modelOf(runbook());
  return { model, secrets: (await ensureSecrets(model, empty(), deps)).secrets };
}

/** `secrets` with one leaf replaced by another issued by the etcd CA, changed by `change` (its subject, its usages). */
async function withLeaf(secrets: Secrets, model: ReturnType<typeof modelOf>, leaf: LeafInstance, change: Partial<LeafInstance['spec']>, stem = leaf.stem) {
  const ca = await loadIssuingCa(secrets.files.get('etcd/ca.crt')!, secrets.files.get('etcd/ca.key')!, deps);
  const made = await issueLeaf({ ...leaf, spec: { ...leaf.spec, ...change } }, ca, model, deps);
  const files = new Map(secrets.files);
  files.set(`${stem}.crt`, made.pem);
  files.set(`${stem}.key`, made.keyPem);
  return { files, tokens: secrets.tokens };
}

test('the list says what each file is for, where it is installed and what renews it (kubeadm certlist.go names the same)', () => {
  const rows = [...certificateAuthorities(), ...leafCertificates(), ...keyPairs()].map((s) => [
    s.name,
    s.installed.map((i) => `${i.on}:${i.path}${i.withKey ? '+key' : ''}`).join(' '),
    s.renewal.by,
  ]);
  assert.equal(rows, [
    ['ca', 'control-plane:/etc/kubernetes/pki/ca+key', null],
    ['front-proxy-ca', 'control-plane:/etc/kubernetes/pki/front-proxy-ca+key', null],
    ['etcd-ca', 'control-plane:/etc/kubernetes/pki/etcd/ca etcd:/etc/etcd/pki/ca', null],
    ['etcd-server', 'etcd:/etc/etcd/pki/server+key', 'gen certs renew'],
    ['etcd-peer', 'etcd:/etc/etcd/pki/peer+key', 'gen certs renew'],
    ['apiserver-etcd-client', 'control-plane:/etc/kubernetes/pki/apiserver-etcd-client+key', 'gen certs renew'],
    ['sa', 'control-plane:/etc/kubernetes/pki/sa+key', null],
  ]);
  for (const spec of [...certificateAuthorities(), ...leafCertificates(), ...keyPairs()]) {
    assert.ok(spec.purpose.length > 20, `${spec.name} says what it is for`);
    assert.ok(spec.renewal.after.length > 20, `${spec.name} says what follows its renewal, or why there is none`);
  }
});

test('a stored leaf whose subject or usages differ from the list is re-issued, not only one whose SANs differ', async () => {
  const { model, secrets } = await runbookSecrets();
  const leaves = leafInstances(model);
  const server = leaves.find((l) => l.stem === 'etcd/ceph1-server')!;
  const peer = leaves.find((l) => l.stem === 'etcd/ceph1-peer')!;
  let stored = await withLeaf(secrets, model, server, { subject: () => ({ commonName: 'intruder' }) });
  stored = await withLeaf(stored, model, peer, { usages: ['serverAuth'] });
  const again = await ensureSecrets(model, stored, deps);
  assert.equal(again.changes.map(describeSecretChange), [
    're-issued (subject changed) etcd/ceph1-server.key',
    're-issued (subject changed) etcd/ceph1-server.crt',
    're-issued (usages changed) etcd/ceph1-peer.key',
    're-issued (usages changed) etcd/ceph1-peer.crt',
  ]);
  const fixed = await ensureSecrets(model, again.secrets, deps);
  assert.equal(fixed.changes, [], 'the re-issued leaves are what the list asks for');
});

test('gen certs renew renews the leaves of the list only: a .crt the list does not name is left alone and named', async () => {
  const { model, secrets } = await runbookSecrets();
  const client = leafInstances(model).find((l) => l.stem === 'apiserver-etcd-client')!;
  const stored = await withLeaf(secrets, model, client, { name: 'backup-client' }, 'etcd/backup-client');
  const result = await renewLeaves(stored, 400, deps);
  assert.equal(
    result.renewed.map((r) => r.path),
    [
      'apiserver-etcd-client.crt',
      'etcd/ceph1-peer.crt',
      'etcd/ceph1-server.crt',
      'etcd/ceph2-peer.crt',
      'etcd/ceph2-server.crt',
      'etcd/ceph3-peer.crt',
      'etcd/ceph3-server.crt',
    ],
  );
  assert.equal(result.notInList, ['etcd/backup-client.crt']);
  assert.is(result.secrets.files.get('etcd/backup-client.crt'), stored.files.get('etcd/backup-client.crt'), 'left as it was');
});

/** What openssl says of a PEM certificate: validity, subject and the X.509v3 extensions, without the key ids. */
function described(pem: string): string {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'c.crt'), pem);
    const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', join(dir, 'c.crt')], { encoding: 'utf8' });
    const lines = text.split('\n').map((l) => l.trim());
    const from = (start: string, end: string) => lines.slice(lines.indexOf(start), lines.indexOf(end, lines.indexOf(start)));
    return [...lines.filter((l) => /^(Not Before|Not After|Subject) ?:/.test(l)), ...from('X509v3 extensions:', 'Signature Algorithm: ecdsa-with-SHA256')]
      .filter((l) => !/^([0-9A-F]{2}:)+[0-9A-F]{2}$/.test(l))
      .join('\n');
  } finally {
    cleanup(dir);
  }
}

testNeeding(['openssl'], "the certificates issued, as openssl reads them: RFC 5280's CA and leaf profiles, backdated five minutes", async () => {
  const { secrets } = await runbookSecrets();
  // now is 2026-01-01T00:00:00Z: valid from 23:55 the day before, for caValidityDays 3650 and leafValidityDays 365.
  assert.is(
    described(secrets.files.get('etcd/ca.crt')!),
    [
      'Not Before: Dec 31 23:55:00 2025 GMT',
      'Not After : Dec 30 00:00:00 2035 GMT',
      'Subject: CN = etcd-ca',
      'X509v3 extensions:',
      'X509v3 Basic Constraints: critical',
      'CA:TRUE',
      'X509v3 Key Usage: critical',
      'Digital Signature, Key Encipherment, Certificate Sign, CRL Sign',
      'X509v3 Subject Key Identifier:',
    ].join('\n'),
  );
  assert.is(
    described(secrets.files.get('etcd/ceph1-server.crt')!),
    [
      'Not Before: Dec 31 23:55:00 2025 GMT',
      'Not After : Jan  1 00:00:00 2027 GMT',
      'Subject: CN = ceph1',
      'X509v3 extensions:',
      'X509v3 Basic Constraints: critical',
      'CA:FALSE',
      'X509v3 Key Usage: critical',
      'Digital Signature, Key Encipherment',
      'X509v3 Extended Key Usage:',
      'TLS Web Server Authentication, TLS Web Client Authentication',
      'X509v3 Authority Key Identifier:',
      'X509v3 Subject Alternative Name:',
      'DNS:ceph1, DNS:localhost, IP Address:172.21.16.14, IP Address:127.0.0.1',
    ].join('\n'),
  );
  const client = described(secrets.files.get('apiserver-etcd-client.crt')!);
  assert.match(client, 'Subject: CN = kube-apiserver-etcd-client\n');
  assert.match(client, 'X509v3 Extended Key Usage:\nTLS Web Client Authentication\nX509v3 Authority Key Identifier:');
  assert.not.match(client, 'Subject Alternative Name', 'no SANs, no empty SAN extension');
});

test('renewal: a leaf ending exactly at the deadline is renewed, one a day after it is not; an expired CA renews nothing', async () => {
  const { secrets } = await runbookSecrets();
  // Issued at deps.now with leafValidityDays 365: each leaf ends at now + 365 days, to the second.
  assert.is((await renewLeaves(secrets, 364, deps)).renewed.length, 0);
  const renewed = await renewLeaves(secrets, 365, deps);
  assert.is(renewed.renewed.length, 7);
  assert.equal(renewed.renewed[0], {
    path: 'apiserver-etcd-client.crt',
    oldNotAfter: new Date('2027-01-01T00:00:00Z'),
    newNotAfter: new Date('2027-01-01T00:00:00Z'),
  });
  // Renewed at the same instant with the same lifetime: the same validity, a new certificate from the same key.
  assert.is.not(renewed.secrets.files.get('apiserver-etcd-client.crt'), secrets.files.get('apiserver-etcd-client.crt'));
  assert.is(renewed.secrets.files.get('apiserver-etcd-client.key'), secrets.files.get('apiserver-etcd-client.key'));
  const later = { now: new Date('2035-12-30T00:00:00Z'), crypto: globalThis.crypto };
  try {
    await renewLeaves(secrets, 30, later);
    assert.unreachable('renewed with an expired CA');
  } catch (error) {
    assert.equal((error as { problems: string[] }).problems, [
      'ca.crt: the CA expired on 2035-12-30; kubeha renews leaves only, never a CA',
      'front-proxy-ca.crt: the CA expired on 2035-12-30; kubeha renews leaves only, never a CA',
      'etcd/ca.crt: the CA expired on 2035-12-30; kubeha renews leaves only, never a CA',
    ]);
  }
});

test.run();
