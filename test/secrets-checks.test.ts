/** Stored secrets that look right but are not: mismatched halves, fake CAs, weak keys, bundles, expired leaves; diffs that leak. */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeSecretChange, ensureSecrets } from '../src/pki/ensure.js';
import { saveSecrets } from '../src/cli/secrets-store.js';
import { REPO, cleanup, modelOf, runCli, snapshot, tempDir, testNeeding } from './helpers.js';

const runbook = () => JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));

async function gen(work: string, extra: string[] = [], doc: unknown = runbook()) {
  writeFileSync(join(work, 'inventory.json'), JSON.stringify(doc));
  return runCli([...extra, join(work, 'inventory.json'), '--out', join(work, 'out'), '--secrets', join(work, 'secrets')]);
}

/** Runs gen on a tampered secrets folder: exit 1, the message, and neither folder changed. */
async function refused(work: string, message: string) {
  const before = [snapshot(join(work, 'secrets')), snapshot(join(work, 'out'))];
  const r = await gen(work);
  assert.is(r.code, 1, r.out);
  assert.match(r.err, message);
  assert.equal([snapshot(join(work, 'secrets')), snapshot(join(work, 'out'))], before);
}

const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('sa.key and sa.pub must be halves of one key pair', async () => {
  const a = tempDir();
  const b = tempDir();
  try {
    assert.is((await gen(a)).code, 0);
    assert.is((await gen(b)).code, 0);
    writeFileSync(join(a, 'secrets', 'sa.pub'), readFileSync(join(b, 'secrets', 'sa.pub')));
    await refused(a, 'secrets: sa.pub: not the public half of sa.key; restore both from your backup (a new pair would invalidate every service-account token)');
  } finally {
    cleanup(a);
    cleanup(b);
  }
});

testNeeding(['openssl'], 'a CA certificate without CA:TRUE, an RSA key under 2048 bits, and two certificates in one file are refused', async () => {
  const work = tempDir();
  try {
    assert.is((await gen(work)).code, 0);
    const s = (p: string) => join(work, 'secrets', p);
    const original = [readFileSync(s('front-proxy-ca.crt')), readFileSync(s('front-proxy-ca.key'))] as const;
    const restore = () => {
      writeFileSync(s('front-proxy-ca.crt'), original[0]);
      writeFileSync(s('front-proxy-ca.key'), original[1]);
    };

    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/CN=front-proxy-ca',
      '-days',
      '30',
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-keyout',
      s('front-proxy-ca.key'),
      '-out',
      s('front-proxy-ca.crt'),
    );
    await refused(work, 'secrets: front-proxy-ca.crt: not a CA certificate (basicConstraints CA:TRUE is missing); restore the CA from your backup');
    restore();

    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:1024',
      '-nodes',
      '-subj',
      '/CN=front-proxy-ca',
      '-days',
      '30',
      '-keyout',
      s('front-proxy-ca.key'),
      '-out',
      s('front-proxy-ca.crt'),
    );
    await refused(work, 'secrets: front-proxy-ca.crt: an RSA key of 1024 bits; kubeha needs at least 2048');
    restore();

    writeFileSync(s('ca.crt'), readFileSync(s('ca.crt'), 'utf8') + readFileSync(s('front-proxy-ca.crt'), 'utf8'));
    await refused(work, `secrets: ${s('ca.crt')}: holds 2 PEM blocks; kubeha expects exactly one (a certificate bundle is not a CA)`);
  } finally {
    cleanup(work);
  }
});

test('an expired leaf is refused, naming it and how to renew; certs renew fixes it; the warnings say expired, not "expires within"', async () => {
  const work = tempDir();
  try {
    const doc = runbook();
    doc.cluster.certificates = { leafValidityDays: 1 };
    const past = new Date(Date.now() - 3 * 24 * 60 * 60 * 1000);
    const made = await ensureSecrets(modelOf(doc), { files: new Map(), tokens: null }, { now: past, crypto: webcrypto as unknown as Crypto });
    saveSecrets(join(work, 'secrets'), made.secrets);
    const secrets = join(work, 'secrets');
    const r = await gen(work, [], doc);
    assert.is(r.code, 1);
    assert.match(r.err, /^secrets: apiserver-etcd-client\.crt: expired on \d{4}-\d\d-\d\d; run gen certs renew --secrets \S+, then gen again$/m);
    assert.match(r.err, /^secrets: etcd\/ceph1-server\.crt: expired on /m);
    const listed = await runCli(['certs', '--secrets', secrets]);
    assert.is(listed.code, 0);
    assert.is(listed.err, `warning: 7 certificate(s) have expired: run gen certs renew --secrets ${secrets}, then gen again\n`);
    assert.not.match(listed.err, 'within');
    const renewed = await runCli(['certs', 'renew', '--secrets', secrets]);
    assert.is(renewed.code, 0, renewed.err);
    const again = await gen(work, [], doc);
    assert.is(again.code, 0, again.err);
    assert.match(again.err, 'warning: 7 certificate(s) expire within 30 days');
  } finally {
    cleanup(work);
  }
});

test('diff redacts secrets on both sides: removing tokens.json never prints the old token or passwords', async () => {
  const work = tempDir();
  try {
    assert.is((await gen(work)).code, 0);
    const old = JSON.parse(readFileSync(join(work, 'secrets', 'tokens.json'), 'utf8'));
    rmSync(join(work, 'secrets', 'tokens.json'));
    const r = await gen(work, ['diff']);
    assert.is(r.code, 0, r.err);
    assert.match(r.out, /^ {4}-.*<redacted bootstrapToken \(another value\)>/m, 'the old line is shown, redacted');
    assert.match(r.out, /^ {4}\+.*<redacted bootstrapToken>/m);
    assert.match(r.out, /^ {4}-.*<redacted vrrpPassword \(another value\)>/m);
    assert.match(r.out, /^ {4}-.*<redacted haproxyStatsPassword \(another value\)>/m);
    for (const key of ['bootstrapToken', 'vrrpPassword', 'haproxyStatsPassword']) assert.not.match(r.out, old[key], `old ${key} printed`);
    const json = await gen(work, ['diff', '--json']);
    for (const key of ['bootstrapToken', 'vrrpPassword', 'haproxyStatsPassword']) assert.not.match(json.out, old[key], `old ${key} in --json`);
    const check = await gen(work, ['check', '--json']);
    for (const key of ['bootstrapToken', 'vrrpPassword', 'haproxyStatsPassword']) assert.not.match(check.out, old[key], `old ${key} in check --json`);
  } finally {
    cleanup(work);
  }
});

test('ensureSecrets says what it made, typed: generated CAs, key pairs and tokens; issued leaves; re-issued when SANs change', async () => {
  const deps = { now: new Date(), crypto: webcrypto as unknown as Crypto };
  const doc = runbook();
  const made = await ensureSecrets(modelOf(doc), { files: new Map(), tokens: null }, deps);
  const paths = (action: string) =>
    made.changes
      .filter((c) => c.action === action)
      .map((c) => c.path)
      .sort();
  assert.equal([...paths('generated'), ...paths('issued')].sort(), [...made.secrets.files.keys(), 'tokens.json'].sort(), 'one change per file made');
  assert.ok(paths('generated').includes('ca.key') && paths('generated').includes('sa.pub') && paths('generated').includes('tokens.json'));
  assert.ok(paths('issued').includes('etcd/ceph1-server.crt') && !paths('issued').some((p) => /(^|\/)ca\.(crt|key)$/.test(p)));
  assert.equal(paths('re-issued'), []);
  doc.hosts.find((h: { name: string }) => h.name === 'ceph2').address = '172.21.16.60';
  const moved = await ensureSecrets(modelOf(doc), made.secrets, deps);
  assert.equal(
    moved.changes.map(describeSecretChange).sort(),
    ['etcd/ceph2-peer.crt', 'etcd/ceph2-peer.key', 'etcd/ceph2-server.crt', 'etcd/ceph2-server.key'].map((p) => `re-issued (SANs changed) ${p}`),
  );
});

test.run();
