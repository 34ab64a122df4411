/**
 * The tar reader (src/bundle/untar.ts) on its own, fast: archives GNU tar writes, and headers written here byte by
 * byte after POSIX.1-2001 (pax) and GNU tar's manual (a 512-byte block: name 0-100, mode 100-108, size 124-136,
 * checksum 148-156 as six octal digits, NUL, space, typeflag 156, linkname 157-257, magic 257-263, device numbers
 * 329-345, prefix 345-500). Every expectation is a literal.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readTar, readTarball, TarballError } from '../src/bundle/untar.js';
import { cleanup, ROOT, tempDir, testNeeding } from './helpers.js';

/** One header block as the formats define it; `chksum` overrides the computed checksum field. */
function header(f: {
  name: string;
  type?: string;
  size?: number | Buffer;
  mode?: number;
  link?: string;
  magic?: string;
  prefix?: string;
  device?: [number, number];
  chksum?: string;
}): Buffer {
  const h = Buffer.alloc(512);
  h.write(f.name, 0, 'utf8');
  h.write(`${(f.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  if (Buffer.isBuffer(f.size)) f.size.copy(h, 124);
  else h.write(`${(f.size ?? 0).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.write(f.type ?? '0', 156, 'latin1');
  if (f.link) h.write(f.link, 157, 'utf8');
  h.write(f.magic ?? 'ustar\x0000', 257, 'latin1');
  if (f.device) {
    h.write(`${f.device[0].toString(8).padStart(7, '0')}\0`, 329, 'latin1');
    h.write(`${f.device[1].toString(8).padStart(7, '0')}\0`, 337, 'latin1');
  }
  if (f.prefix) h.write(f.prefix, 345, 'utf8');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(f.chksum ?? `${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** An entry: its header and its data padded to whole blocks. */
const entry = (f: Parameters<typeof header>[0], data: Buffer = Buffer.alloc(0)): Buffer =>
  Buffer.concat([header({ ...f, size: f.size ?? data.length }), data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
/** A whole archive: the entries, then the two zero blocks that end it. */
const archive = (...entries: Buffer[]) => Buffer.concat([...entries, Buffer.alloc(1024)]);
/** A PAX extended header's records: `LEN key=value\n`, LEN counting itself. */
function pax(records: Record<string, string>): Buffer {
  return Buffer.from(
    Object.entries(records)
      .map(([k, v]) => {
        const body = ` ${k}=${v}\n`;
        let n = body.length + 1;
        while (`${n}${body}`.length !== n) n++;
        return `${n}${body}`;
      })
      .join(''),
    'utf8',
  );
}
const summary = (tar: Buffer, folder = 'h') =>
  readTar(tar, folder).map((e) =>
    [e.path, e.type, e.mode.toString(8), e.bytes.toString('utf8'), e.target, e.device, e.outside, e.note].filter((x) => x !== undefined).join(' | '),
  );
const refusal = (read: () => unknown) => {
  try {
    read();
  } catch (error) {
    assert.instance(error, TarballError);
    return (error as Error).message;
  }
  throw new Error('not refused');
};

test('entries of every kind, with modes, data, link targets and device numbers; paths relative to the host folder', () => {
  const tar = archive(
    entry({ name: 'h/', type: '5', mode: 0o755 }),
    entry({ name: 'h/run.sh', mode: 0o755 }, Buffer.from('#!/bin/bash\n')),
    entry({ name: 'h/rootfs/key', mode: 0o100600 }, Buffer.from('k')),
    entry({ name: 'h/old', type: '\0', mode: 0o644 }, Buffer.from('v7')),
    entry({ name: 'h/contig', type: '7' }, Buffer.from('c')),
    entry({ name: 'h/link', type: '2', link: '/etc/passwd' }),
    entry({ name: 'h/hard', type: '1', link: 'h/run.sh' }),
    entry({ name: 'h/tty', type: '3', device: [4, 1] }),
    entry({ name: 'h/disk', type: '4', device: [8, 0] }),
    entry({ name: 'h/fifo', type: '6' }),
    entry({ name: 'h/dir-by-name/', type: '0' }),
    entry({ name: 'long/name.conf', prefix: 'h/rootfs/etc' }, Buffer.from('prefixed')),
  );
  assert.equal(summary(tar), [
    ' | folder | 755 | ',
    'run.sh | file | 755 | #!/bin/bash\n',
    'rootfs/key | file | 600 | k',
    'old | file | 644 | v7',
    'contig | file | 644 | c',
    'link | symbolic link | 644 |  | /etc/passwd',
    'hard | hard link | 644 |  | h/run.sh',
    'tty | character device | 644 |  | 4,1',
    'disk | block device | 644 |  | 8,0',
    'fifo | named pipe | 644 | ',
    'dir-by-name | folder | 644 | ',
    'rootfs/etc/long/name.conf | file | 644 | prefixed',
  ]);
});

test('names outside the host folder, a name met twice and an unknown type are flagged as GNU tar would treat them', () => {
  const tar = archive(
    entry({ name: 'h/../evil' }),
    entry({ name: '/etc/cron.d/x' }),
    entry({ name: 'other/file' }),
    entry({ name: './h/./a//b' }, Buffer.from('1')),
    entry({ name: 'h/a/b' }, Buffer.from('2')),
    entry({ name: 'h/odd', type: 'Z' }, Buffer.from('z')),
    entry({ name: 'h/label', type: 'V' }),
  );
  assert.equal(summary(tar), [
    'h/../evil | file | 644 |  | true',
    '/etc/cron.d/x | file | 644 |  | true',
    'other/file | file | 644 |  | true',
    'a/b | file | 644 | 2 | appears more than once: GNU tar keeps the last, shown here',
    "odd | file | 644 | z | of unknown type 'Z': GNU tar extracts it as a file",
  ]);
});

test('a GNU tar (not POSIX) header ignores the prefix field; PAX and GNU long names and sizes apply to the next entry only', () => {
  const gnuMagic = 'ustar  \0';
  const long = `h/${'d'.repeat(120)}/f`;
  const tar = archive(
    entry({ name: 'h/plain', magic: gnuMagic, prefix: 'ignored' }, Buffer.from('p')),
    entry({ name: 'h/PaxHeader', type: 'x' }, pax({ path: 'h/from-pax', linkpath: 'h/target-from-pax' })),
    entry({ name: 'h/short', type: '2', link: 'h/short-target' }),
    entry({ name: 'h/after' }),
    entry({ name: '././@LongLink', type: 'L', magic: gnuMagic }, Buffer.from(`${long}\0`)),
    entry({ name: 'h/cut', magic: gnuMagic }, Buffer.from('l')),
    entry({ name: '././@LongLink', type: 'K', magic: gnuMagic }, Buffer.from('h/long-target\0')),
    entry({ name: 'h/k', type: '1', magic: gnuMagic, link: 'h/x' }),
    entry({ name: 'h/GlobalHead', type: 'g' }, pax({ comment: 'ignored' })),
    entry({ name: 'h/PaxHeader', type: 'x' }, pax({ size: '3' })),
    Buffer.concat([header({ name: 'h/sized', size: 0 }), Buffer.from('abc'), Buffer.alloc(509)]),
  );
  assert.equal(summary(tar), [
    'plain | file | 644 | p',
    'from-pax | symbolic link | 644 |  | h/target-from-pax',
    'after | file | 644 | ',
    `${'d'.repeat(120)}/f | file | 644 | l`,
    'k | hard link | 644 |  | h/long-target',
    'sized | file | 644 | abc',
  ]);
});

test('sizes in GNU base-256 are read; a damaged header, a short archive or a bad PAX record is refused in words', () => {
  const base256 = Buffer.alloc(12);
  base256[0] = 0x80;
  base256[11] = 2;
  assert.equal(summary(archive(Buffer.concat([header({ name: 'h/b', size: base256 }), Buffer.from('xy'), Buffer.alloc(510)]))), ['b | file | 644 | xy']);
  assert.is(
    refusal(() => readTar(archive(entry({ name: 'h/x', chksum: '0000000\0' })), 'h')),
    'the header at byte 0 has a wrong checksum: the tarball is damaged',
  );
  assert.is(
    refusal(() => readTar(archive(entry({ name: 'h/x', size: Buffer.from('12345678901x') })), 'h')),
    'the header at byte 0 has no valid size field: not a tar kubeha can read',
  );
  assert.is(
    refusal(() => readTar(entry({ name: 'h/x' }), 'h')),
    'cut short at byte 512: no end-of-archive blocks',
  );
  assert.is(
    refusal(() => readTar(header({ name: 'h/x', size: 600 }), 'h')),
    'cut short at byte 512: an entry declares 600 bytes',
  );
  assert.is(
    refusal(() => readTar(archive(entry({ name: 'h/l', type: '2', link: 't' }, Buffer.from('data'))), 'h')),
    'entry h/l (a symbolic link) carries 4 bytes of data before byte 1024: tar readers disagree on such entries',
  );
  for (const bad of ['5 a=b\n', '99 path=x\n', '9 path=x!', '8 novalue\n'])
    assert.is(
      refusal(() => readTar(archive(entry({ name: 'h/P', type: 'x' }, Buffer.from(bad)), entry({ name: 'h/x' })), 'h')),
      'a PAX header before byte 1024 is malformed',
      JSON.stringify(bad),
    );
  assert.is(
    refusal(() => readTar(archive(entry({ name: 'h/P', type: 'x' }, pax({ size: '-1' })), entry({ name: 'h/x' })), 'h')),
    'a PAX header before byte 1024 gives a size that is no number',
  );
});

test('GNU extensions: a sparse file keeps its data, a dumpdir is a folder, a global PAX header names every later entry', () => {
  const tar = archive(
    entry({ name: 'h/sparse', type: 'S' }, Buffer.from('map')),
    entry({ name: 'h/dump', type: 'D' }, Buffer.from('Yname\0\0')),
    entry({ name: 'h/G', type: 'g' }, pax({ linkpath: 'h/from-global' })),
    entry({ name: 'h/l1', type: '2' }),
    entry({ name: 'h/l2', type: '1' }),
  );
  assert.equal(summary(tar), [
    'sparse | sparse file | 644 | map',
    'dump | folder | 644 | ',
    'l1 | symbolic link | 644 |  | h/from-global',
    'l2 | hard link | 644 |  | h/from-global',
  ]);
});

test('numbers as tar writers pad them (spaces, NULs), a checksum summed as signed bytes (old tars), base-256 past 2^53 refused', () => {
  const spaced = header({ name: 'h/s', mode: 0o600 });
  spaced.write('   644 \0', 100, 'latin1');
  let sum = 0;
  spaced.fill(0x20, 148, 156);
  for (const byte of spaced) sum += byte;
  spaced.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  assert.equal(summary(archive(spaced)), ['s | file | 644 | ']);
  // A name byte over 127 makes the signed and unsigned sums differ; a checksum of the signed sum is accepted.
  const high = header({ name: 'h/\u00e9' });
  let signed = 0;
  high.fill(0x20, 148, 156);
  for (const byte of high) signed += byte > 127 ? byte - 256 : byte;
  high.write(`${signed.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  assert.equal(summary(archive(high)), ['\u00e9 | file | 644 | ']);
  const huge = Buffer.alloc(12, 0xff);
  huge[0] = 0x80;
  assert.is(
    refusal(() => readTar(archive(Buffer.concat([header({ name: 'h/b', size: huge })])), 'h')),
    'the header at byte 0 has no valid size field: not a tar kubeha can read',
  );
});

test('PAX records: each one LEN key=value newline, LEN its own length; a size of 16 digits is no number', () => {
  const read = (body: string) => readTar(archive(entry({ name: 'h/P', type: 'x' }, Buffer.from(body)), entry({ name: 'h/x' })), 'h')[0]!.path;
  assert.is(read('12 path=h/y\n'), 'y');
  assert.is(read('12 path=h/y\n11 atime=1\n'), 'y', 'other keywords are read past');
  for (const bad of [' 12 path=h/y\n', '3 a\n', '12 path=h/y', '13 path=h/y\n'])
    assert.is(
      refusal(() => read(bad)),
      'a PAX header before byte 1024 is malformed',
      JSON.stringify(bad),
    );
  assert.is(
    refusal(() => read('25 size=1234567890123456\n')),
    'a PAX header before byte 1024 gives a size that is no number',
  );
  assert.is(
    refusal(() => read('24 size=123456789012345\n')),
    'cut short at byte 2560: an entry declares 123456789012345 bytes',
  );
});

test('gzip: not gzip, cut short, and more than the cap are refused in words; an exact fit is read', () => {
  const tar = archive(entry({ name: 'h/a' }, Buffer.from('a')));
  const gz = gzipSync(tar);
  assert.equal(
    readTarball(gz, 'h', tar.length).map((e) => e.path),
    ['a'],
  );
  assert.is(
    refusal(() => readTarball(gz, 'h', tar.length - 1)),
    `unpacks to more than ${tar.length - 1} bytes (a gzip bomb?); a kubeha bundle is far smaller`,
  );
  assert.is(
    refusal(() => readTarball(gz.subarray(0, gz.length - 12), 'h')),
    'cut short: the gzip data ends early',
  );
  assert.match(
    refusal(() => readTarball(Buffer.from('plain text, not gzip'), 'h')),
    /^not gzip data, or damaged \(/,
  );
});

testNeeding(['tar', ROOT], 'what GNU tar writes (gnu and pax formats, devices, a fifo, long names) reads back as tar -tv lists it', () => {
  const work = tempDir();
  try {
    const host = join(work, 'h');
    mkdirSync(join(host, 'rootfs', 'x'.repeat(110)), { recursive: true });
    writeFileSync(join(host, 'rootfs', 'x'.repeat(110), 'file'), 'long\n');
    writeFileSync(join(host, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    symlinkSync('run.sh', join(host, 'sym'));
    execFileSync('mkfifo', [join(host, 'pipe')]);
    execFileSync('mknod', [join(host, 'null'), 'c', '1', '3']);
    for (const format of ['gnu', 'pax']) {
      const tar = execFileSync('tar', [`--format=${format}`, '--sort=name', '--owner=0', '--group=0', '-cf', '-', '-C', work, 'h']);
      assert.equal(
        readTar(tar, 'h').map((e) => `${e.path} ${e.type}${e.target ? ` ${e.target}` : ''}${e.device ? ` ${e.device}` : ''}`),
        [
          'h folder'.replace('h ', ' '),
          'null character device 1,3',
          'pipe named pipe',
          'rootfs folder',
          `rootfs/${'x'.repeat(110)} folder`,
          `rootfs/${'x'.repeat(110)}/file file`,
          'run.sh file',
          'sym symbolic link run.sh',
        ],
        format,
      );
      assert.is(readTar(tar, 'h').find((e) => e.path === 'run.sh')!.mode, 0o755);
    }
    assert.ok(readFileSync(join(host, 'run.sh')).length > 0);
  } finally {
    cleanup(work);
  }
});

test.run();
