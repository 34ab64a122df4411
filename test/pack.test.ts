/** cli/pack.ts: with or without the worker thread, the output files are compile()'s hosts tarred, the rollout and SHA256SUMS. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildTarball } from '../src/bundle/tar.js';
import { openPacker, packInMemory } from '../src/cli/pack.js';
import type { OutputFile } from '../src/cli/output.js';
import { compile } from '../src/index.js';
import { REPO, TEMPLATES, modelOf, secretsFor } from './helpers.js';

const quiet = { out: () => {}, err: () => {} };

/** The runbook plus `workers` workers (200+ hosts: the packer starts its worker thread). */
async function cluster(workers: number) {
  const doc = JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));
  doc.hosts.push(
    ...Array.from({ length: workers }, (_, i) => ({ name: `node${i}`, address: `10.1.${Math.floor(i / 200)}.${(i % 200) + 1}`, roles: ['worker'] })),
  );
  const model = modelOf(doc);
  return compile(model, { secrets: await secretsFor(model), templates: TEMPLATES });
}

/** What the output folder must hold: each host's compile() files tarred, the rollout files and the picture (SHA256SUMS aside). */
function expectedFiles(compiled: Awaited<ReturnType<typeof cluster>>): Map<string, Buffer> {
  const files = new Map(compiled.hosts.map((host, i) => [`${host.name}.tar.gz`, buildTarball(host.name, compiled.hostFiles(i))]));
  for (const file of [...compiled.rollout(), compiled.picture()]) files.set(file.path, file.bytes);
  return files;
}

test('the worker thread and this thread both pack hosts, and every file is what compile() gives', async () => {
  const compiled = await cluster(250);
  const packer = openPacker(compiled.hosts.length);
  try {
    assert.ok(packer.helper, 'a worker thread was started for 255 hosts');
    const byHelper = new Set<string>();
    let helperPacked = () => {};
    const helperStarted = new Promise<void>((resolve) => {
      helperPacked = resolve;
    });
    packer.helper.on('message', (m: { name?: string }) => {
      if (m.name) byHelper.add(m.name);
      helperPacked();
    });
    const sunk: OutputFile[] = [];
    // Writes wait until the worker has packed a host: this thread (at most 16 writes outstanding) is held back meanwhile.
    const packed = await packer.pack(
      compiled,
      async (file) => {
        sunk.push(file);
        await Promise.race([helperStarted, new Promise((resolve) => setTimeout(resolve, 30_000))]);
      },
      quiet,
    );
    assert.ok(byHelper.size > 0 && byHelper.size < compiled.hosts.length, `the worker packed ${byHelper.size} of ${compiled.hosts.length} hosts`);
    assert.is(sunk.at(-1)!.name, 'SHA256SUMS', 'SHA256SUMS is written last');
    assert.equal(sunk.map((f) => f.name).sort(), packed.files.map((f) => f.name).sort(), 'every file went to the sink once');
    const expected = expectedFiles(compiled);
    assert.equal(
      packed.files.slice(0, -1).map((f) => f.name),
      [...expected.keys()].sort(),
    );
    for (const file of packed.files.slice(0, -1)) assert.ok(file.bytes.equals(expected.get(file.name)!), file.name);
    const sums = packed.files.at(-1)!.bytes.toString('utf8').trim().split('\n');
    assert.is(sums.length, expected.size, 'SHA256SUMS lists every other file');
    assert.is(
      packed.bundleFileCount,
      compiled.hosts.reduce((n, _, i) => n + compiled.hostFiles(i).length, 0),
    );
  } finally {
    await packer.close();
  }
});

test("packing in memory gives the same files as packing with the worker, and keeps every host's files", async () => {
  const compiled = await cluster(200);
  const packer = openPacker(compiled.hosts.length);
  try {
    assert.ok(packer.helper);
    const streamed = await packer.pack(compiled, async () => {}, quiet);
    const inMemory = await packInMemory(compiled, quiet);
    assert.equal(
      inMemory.files.map((f) => f.name),
      streamed.files.map((f) => f.name),
    );
    for (const [i, file] of inMemory.files.entries()) assert.ok(file.bytes.equals(streamed.files[i]!.bytes), file.name);
    assert.is(inMemory.bundleFileCount, streamed.bundleFileCount);
    assert.equal(
      [...inMemory.bundles.keys()],
      compiled.hosts.map((h) => h.name),
    );
    assert.equal(inMemory.bundles.get('node7'), compiled.hostFiles(compiled.hosts.findIndex((h) => h.name === 'node7')));
  } finally {
    await packer.close();
  }
});

test('a small cluster is packed on this thread alone', () => {
  const packer = openPacker(199);
  assert.is(packer.helper, null);
});

test.run();
