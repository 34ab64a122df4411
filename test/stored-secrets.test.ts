/**
 * The stored secrets as ensureSecrets checks them (src/pki/ensure.ts, inspect.ts), pure and fast: what is reused, made,
 * or refused, each refusal a literal message naming the file and what to do. A CA is never replaced.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { installedPath, storedCertificate } from '../src/pki/cert-list.js';
import { ensureSecrets } from '../src/pki/ensure.js';
import { expiringCertificates } from '../src/pki/inspect.js';
import type { Secrets } from '../src/pki/secrets.js';
import { modelOf, REPO } from './helpers.js';

const deps = { now: new Date('2026-01-01T00:00:00Z'), crypto: globalThis.crypto };
const model = modelOf(JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8')));
let complete: Secrets;

/** The problems ensureSecrets refuses `files` with (the complete set changed by `change`). */
async function refusal(change: (files: Map<string, string>) => void): Promise<string[]> {
  const files = new Map(complete.files);
  change(files);
  try {
    await ensureSecrets(model, { files, tokens: complete.tokens }, deps);
  } catch (error) {
    return (error as { problems: string[] }).problems;
  }
  throw new Error('not refused');
}

test('a complete set is reused as it is: nothing made, the same object back', async () => {
  complete = (await ensureSecrets(model, { files: new Map(), tokens: null }, deps)).secrets;
  const again = await ensureSecrets(model, complete, deps);
  assert.equal(again.changes, []);
  assert.is(again.secrets, complete);
});

test('what is missing is made, alone: a leaf pair, the tokens', async () => {
  const files = new Map(complete.files);
  files.delete('etcd/ceph2-peer.crt');
  files.delete('etcd/ceph2-peer.key');
  const made = await ensureSecrets(model, { files, tokens: null }, deps);
  assert.equal(
    made.changes.map((c) => `${c.action} ${c.path}`),
    ['issued etcd/ceph2-peer.key', 'issued etcd/ceph2-peer.crt', 'generated tokens.json'],
  );
  assert.is(made.secrets.files.get('etcd/ca.crt'), complete.files.get('etcd/ca.crt'), 'the CA is kept');
});

test('half a pair, a key of another certificate, text that is no PEM: refused, naming the file and what to do', async () => {
  assert.equal(await refusal((f) => f.delete('etcd/ceph1-server.key')), [
    'etcd/ceph1-server.key: missing while etcd/ceph1-server.crt exists; delete both to have them issued again',
  ]);
  assert.equal(await refusal((f) => f.delete('etcd/ceph1-server.crt')), [
    'etcd/ceph1-server.crt: missing while etcd/ceph1-server.key exists; delete both to have them issued again',
  ]);
  assert.equal(await refusal((f) => f.delete('ca.key')), ['ca.key: missing while ca.crt exists; restore it from your backup (kubeha never replaces a CA)']);
  assert.equal(await refusal((f) => f.delete('sa.pub')), ['sa.pub: missing while sa.key exists; restore it from your backup']);
  assert.equal(await refusal((f) => f.set('etcd/ceph1-server.key', complete.files.get('etcd/ceph1-peer.key')!)), [
    'etcd/ceph1-server.key: does not match the public key of etcd/ceph1-server.crt; delete both to have them issued again',
  ]);
  assert.equal(await refusal((f) => f.set('front-proxy-ca.key', complete.files.get('ca.key')!)), [
    'front-proxy-ca.key: does not match the public key of front-proxy-ca.crt; restore both from your backup (kubeha never replaces a CA)',
  ]);
  assert.equal(await refusal((f) => f.set('etcd/ceph1-peer.crt', 'hello\n')), ['etcd/ceph1-peer.crt: not a PEM certificate']);
  assert.equal(await refusal((f) => f.set('etcd/ceph1-peer.key', 'hello\n')), ['etcd/ceph1-peer.key: not a PEM private key']);
  assert.equal(await refusal((f) => f.set('sa.pub', complete.files.get('ca.crt')!.replace(/CERTIFICATE/g, 'PUBLIC KEY'))), ['sa.pub: not a PEM public key']);
});

test('a CA that is no CA, a leaf its CA did not sign: refused; a CA is never replaced', async () => {
  assert.equal(
    await refusal((f) => {
      f.set('ca.crt', complete.files.get('apiserver-etcd-client.crt')!);
      f.set('ca.key', complete.files.get('apiserver-etcd-client.key')!);
    }),
    ['ca.crt: not a self-signed CA certificate'],
  );
  // The cluster CA's own pair where the etcd CA's client certificate belongs: a valid pair, signed by another CA.
  assert.equal(
    await refusal((f) => {
      f.set('apiserver-etcd-client.crt', complete.files.get('ca.crt')!);
      f.set('apiserver-etcd-client.key', complete.files.get('ca.key')!);
    }),
    [
      'apiserver-etcd-client.crt: not issued by the stored CA CN=etcd-ca; delete apiserver-etcd-client.crt and apiserver-etcd-client.key to have them issued again',
    ],
  );
});

test("storedCertificate finds a file's entry in the list, and its host; installedPath its place on a host", () => {
  const found = (path: string) => {
    const s = storedCertificate(path);
    return s ? `${s.spec.name}${s.host ? ` ${s.host}` : ''}` : null;
  };
  assert.equal(['ca.crt', 'etcd/ca.crt', 'front-proxy-ca.crt', 'apiserver-etcd-client.crt', 'etcd/ceph1-server.crt', 'etcd/a.b-peer.crt'].map(found), [
    'ca',
    'etcd-ca',
    'front-proxy-ca',
    'apiserver-etcd-client',
    'etcd-server ceph1',
    'etcd-peer a.b',
  ]);
  for (const none of ['etcd/-server.crt', 'etcd/x/y-server.crt', 'ceph1-server.crt', 'etcd/ceph1-client.crt', 'other.crt', 'etcd/ceph1-server.crt.bak'])
    assert.is(found(none), null, none);
  assert.is(installedPath('etcd-ca', 'etcd'), '/etc/etcd/pki/ca');
  assert.is(installedPath('etcd-ca', 'control-plane'), '/etc/kubernetes/pki/etcd/ca');
  assert.is(installedPath('sa', 'control-plane'), '/etc/kubernetes/pki/sa');
  assert.throws(() => installedPath('sa', 'etcd'), /^the certificate list installs no "sa" on etcd hosts$/);
  assert.throws(() => installedPath('nothing', 'etcd'), /^the certificate list installs no "nothing" on etcd hosts$/);
});

test('expiring certificates: those ending before now + days, soonest first, CAs too; one ending at the limit is not', () => {
  const files = complete.files;
  const at = (iso: string, days: number) => expiringCertificates(files, new Date(iso), days).map((c) => c.path);
  // Leaves end 2027-01-01T00:00:00Z, CAs 2035-12-30T00:00:00Z.
  assert.equal(at('2026-12-02T00:00:00Z', 30), []);
  assert.equal(at('2026-12-02T00:00:01Z', 30).length, 7);
  const all = at('2035-12-01T00:00:01Z', 30);
  assert.is(all.length, 10);
  assert.equal(all.slice(7).sort(), ['ca.crt', 'etcd/ca.crt', 'front-proxy-ca.crt']);
});

test.run();
