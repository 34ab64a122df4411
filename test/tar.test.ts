import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildTar, buildTarball, buildTarWithArchiver, FIXED_MTIME } from '../src/bundle/tar.js';
import { bundleFiles, type BundleFile } from '../src/bundle/manifest.js';
import { writeHeader } from '../src/bundle/ustar.js';
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
  // ustar's name field holds 100 bytes: host1/ and 94 fit, one more splits at a slash.
  [
    'names of 100 and 101 bytes',
    [
      { path: `rootfs/${'f'.repeat(87)}`, mode: 0o644, bytes: Buffer.from('1') },
      { path: `rootfs/${'g'.repeat(88)}`, mode: 0o644, bytes: Buffer.from('2') },
    ],
  ],
  // ustar's prefix field holds 155 bytes: a prefix of 155 fits, one of 156 needs a PAX record.
  [
    'prefixes of 155 and 156 bytes',
    [
      { path: `${'p'.repeat(149)}/${'n'.repeat(100)}`, mode: 0o644, bytes: Buffer.from('3') },
      { path: `${'q'.repeat(150)}/${'n'.repeat(100)}`, mode: 0o644, bytes: Buffer.from('4') },
    ],
  ],
  // DEL (0x7f) is ASCII: a ustar name; the first byte past it needs PAX.
  ['a name with DEL', [{ path: 'rootfs/a\x7fb', mode: 0o644, bytes: Buffer.from('5') }]],
  // A PAX record counts its own length: 98 bytes of record make "100 path=...", its length digits grow at the boundary.
  ...[75, 76, 77].map((k): [string, BundleFile[]] => [
    `a PAX record of ${k + 22} bytes`,
    [{ path: `rootfs/é${'e'.repeat(k)}`, mode: 0o644, bytes: Buffer.from('6') }],
  ]),
];

for (const [name, cases] of edgeCases) {
  test(`edge case: ${name}: archiver's bytes, and GNU tar reads every name back`, async () => {
    const tar = buildTar('host1', cases);
    assert.ok(tar.equals(await buildTarWithArchiver('host1', cases)));
    const listed = execFileSync('tar', ['--quoting-style=literal', '-tf', '-'], { input: tar }).toString('utf8').split('\n').filter(Boolean);
    for (const f of cases) assert.ok(listed.includes(`host1/${f.path}`), `${f.path} in ${listed.join(', ')}`);
  });
}

test('a ustar size field holds 11 octal digits: 8^11 - 1 bytes is the largest header written, 8^11 is refused', () => {
  const header = Buffer.alloc(512);
  writeHeader(header, 0, { name: 'big', mode: 0o644, size: 8 ** 11 - 1, mtime: 0, type: 'file' }, { name: 'big', prefix: '' });
  assert.is(header.subarray(124, 136).toString('latin1'), '77777777777 ');
  assert.throws(
    () => writeHeader(Buffer.alloc(512), 0, { name: 'big', mode: 0o644, size: 8 ** 11, mtime: 0, type: 'file' }, { name: 'big', prefix: '' }),
    /^big: 8589934592 bytes do not fit a ustar size field$/,
  );
});

test('a bundle lists its files sorted by path, then SHA256SUMS of them as sha256sum writes it', () => {
  const bundle = bundleFiles([
    { path: 'z', mode: 0o600, bytes: Buffer.from('Z\n') },
    { path: 'a', mode: 0o644, bytes: Buffer.from('A\n') },
  ]);
  assert.equal(
    bundle.map((f) => `${f.mode.toString(8)} ${f.path}`),
    ['644 SHA256SUMS', '644 a', '600 z'],
  );
  // sha256sum of "A\n" and "Z\n" (coreutils).
  assert.is(
    bundle[0]!.bytes.toString('utf8'),
    '06f961b802bc46ee168555f066d28f4f0e9afdf3f88174c1ee6f9de004fc30a0  a\nec39b67830c0c34d71b0b6bf1d1c424eb7caab9222eb401fdaef044cf2145e9b  z\n',
  );
});

test.run();
