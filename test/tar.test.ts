import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildTar, buildTarball, buildTarWithArchiver, FIXED_MTIME } from '../src/bundle/tar.js';
import type { BundleFile } from '../src/bundle/manifest.js';
import { allHostFiles, compile } from '../src/index.js';
import { validateInventory } from '../src/inventory/index.js';
import { buildModel } from '../src/model/model.js';
import { cleanup, FIXTURES, fixtureSecrets, tempDir, TEMPLATES } from './helpers.js';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const files: BundleFile[] = [
  { path: 'SHA256SUMS', mode: 0o644, bytes: Buffer.from('sums\n') },
  { path: 'rootfs/etc/kubernetes/pki/ca.key', mode: 0o600, bytes: Buffer.from('key\n') },
  { path: 'rootfs/etc/a.conf', mode: 0o644, bytes: Buffer.from('a\r\nb\n') },
  { path: 'run.sh', mode: 0o755, bytes: Buffer.from('#!/bin/sh\n') },
];

interface Header {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: string;
}

/** Reads ustar headers (the test's own reader, independent of archiver). */
function headers(tar: Buffer): Header[] {
  const out: Header[] = [];
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a: number, b: number) => h.subarray(a, b).toString('utf8').replace(/\0.*$/s, '');
    const num = (a: number, b: number) => parseInt(str(a, b).trim() || '0', 8);
    const prefix = str(345, 500);
    const header = {
      name: (prefix ? prefix + '/' : '') + str(0, 100),
      mode: num(100, 108),
      uid: num(108, 116),
      gid: num(116, 124),
      size: num(124, 136),
      mtime: num(136, 148),
      type: str(156, 157),
    };
    out.push(header);
    off += 512 + Math.ceil(header.size / 512) * 512;
  }
  return out;
}

test('the same files give the same bytes, whatever order they come in', async () => {
  const a = buildTarball('host1', files);
  const b = buildTarball('host1', [...files].reverse());
  assert.ok(a.equals(b));
});

test('gzip header: no name, mtime 0, Unix OS byte', async () => {
  const gz = buildTarball('host1', files);
  assert.equal([...gz.subarray(0, 4)], [0x1f, 0x8b, 8, 0], 'deflate, no FNAME flag');
  assert.equal([...gz.subarray(4, 8)], [0, 0, 0, 0], 'mtime 0');
  assert.is(gz[9], 3, 'OS byte: Unix');
});

test('entries: sorted, one host folder with parents, fixed mtime, uid/gid 0, explicit modes', async () => {
  const entries = headers(gunzipSync(buildTarball('host1', files)));
  assert.equal(
    entries.map((e) => e.name),
    [
      'host1/',
      'host1/SHA256SUMS',
      'host1/rootfs/',
      'host1/rootfs/etc/',
      'host1/rootfs/etc/a.conf',
      'host1/rootfs/etc/kubernetes/',
      'host1/rootfs/etc/kubernetes/pki/',
      'host1/rootfs/etc/kubernetes/pki/ca.key',
      'host1/run.sh',
    ],
  );
  for (const e of entries) {
    assert.is(e.mtime, FIXED_MTIME.getTime() / 1000, e.name);
    assert.is(e.uid, 0);
    assert.is(e.gid, 0);
  }
  const mode = (name: string) => entries.find((e) => e.name === name)!.mode & 0o7777;
  assert.is(mode('host1/rootfs/etc/kubernetes/pki/ca.key'), 0o600);
  assert.is(mode('host1/run.sh'), 0o755);
  assert.is(mode('host1/rootfs/'), 0o755);
  assert.is(entries.find((e) => e.name === 'host1/rootfs/')!.type, '5');
});

test('GNU tar reads it and the bytes come back exactly (CRLF kept)', async () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'b.tar.gz'), buildTarball('host1', files));
    execFileSync('tar', ['-xzf', join(dir, 'b.tar.gz'), '-C', dir]);
    const out = execFileSync('cat', [join(dir, 'host1', 'rootfs', 'etc', 'a.conf')]);
    assert.ok(out.equals(Buffer.from('a\r\nb\n')));
  } finally {
    cleanup(dir);
  }
});

/** Every host's files of a golden case, compiled from its inventory and stored keys. */
function goldenBundles(name: string): Map<string, BundleFile[]> {
  const dir = join(FIXTURES, 'golden', name);
  const file = readdirSync(dir).find((f) => f.startsWith('inventory.'))!;
  const model = buildModel(validateInventory(file, readFileSync(join(dir, file), 'utf8')).inventory!);
  return allHostFiles(compile(model, { secrets: fixtureSecrets(name), templates: TEMPLATES }));
}

test('the direct writer writes the bytes archiver writes, for every bundle of every golden case', async () => {
  let hosts = 0;
  for (const name of readdirSync(join(FIXTURES, 'golden'))) {
    for (const [host, files] of goldenBundles(name)) {
      const reference = await buildTarWithArchiver(host, files);
      assert.ok(buildTar(host, files).equals(reference), `${name}/${host}`);
      hosts++;
    }
  }
  assert.ok(hosts >= 10, `${hosts} bundles compared`);
});

const edgeCases: [string, BundleFile[]][] = [
  [
    'empty, one-block and just-over-one-block files',
    [
      { path: 'empty', mode: 0o644, bytes: Buffer.alloc(0) },
      { path: 'one-block', mode: 0o600, bytes: Buffer.alloc(512, 0x61) },
      { path: 'one-block-and-a-byte', mode: 0o755, bytes: Buffer.alloc(513, 0x62) },
    ],
  ],
  // Paths over 100 bytes split into ustar's prefix and name at a slash.
  ['a long path that splits', [{ path: `rootfs/${'d'.repeat(60)}/${'e'.repeat(60)}/file.conf`, mode: 0o644, bytes: Buffer.from('x\n') }]],
  // A name part over 100 bytes cannot split, and non-ASCII fits no ustar field: both need a PAX record.
  ['a file name of 120 bytes', [{ path: `rootfs/${'n'.repeat(120)}`, mode: 0o644, bytes: Buffer.from('y\n') }]],
  ['a non-ASCII name', [{ path: 'rootfs/café.conf', mode: 0o644, bytes: Buffer.from('z\n') }]],
];

for (const [name, cases] of edgeCases) {
  test(`edge case: ${name}: archiver's bytes, and GNU tar reads every name back`, async () => {
    const tar = buildTar('host1', cases);
    assert.ok(tar.equals(await buildTarWithArchiver('host1', cases)));
    const listed = execFileSync('tar', ['-tf', '-'], { input: tar }).toString('utf8').split('\n').filter(Boolean);
    for (const f of cases) assert.ok(listed.includes(`host1/${f.path}`), `${f.path} in ${listed.join(', ')}`);
  });
}

test.run();
