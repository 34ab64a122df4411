/** The process always ends: failures on the worker-thread path, and readers that close the pipe early. */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openPacker } from '../src/cli/pack.js';
import { compile } from '../src/index.js';
import { REPO, TEMPLATES, cleanup, modelOf, runCli, secretsFor, tempDir, withoutEndOfLife } from './helpers.js';

const BIN = join(REPO, 'dist', 'src', 'cli', 'bin.js');

/** The runbook plus `workers` workers: 200+ hosts take the worker-thread path. */
function bigDoc(workers: number) {
  const doc = JSON.parse(readFileSync(join(REPO, 'examples', 'runbook.json'), 'utf8'));
  doc.hosts.push(
    ...Array.from({ length: workers }, (_, i) => ({ name: `node${i}`, address: `10.1.${Math.floor(i / 200)}.${(i % 200) + 1}`, roles: ['worker'] })),
  );
  return doc;
}

/** Runs the real executable; kills it after `limitMs` (then code is null). `closeStdout` closes the reading end at once. */
function runBin(args: string[], { closeStdout = false, limitMs = 60_000 } = {}): Promise<{ code: number | null; err: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('node', [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (closeStdout) child.stdout.destroy();
    else child.stdout.resume();
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, err, ms: Date.now() - started });
    });
  });
}

test('a failing run with 200+ hosts (worker thread) prints the error and ends', async () => {
  const work = tempDir();
  try {
    writeFileSync(join(work, 'big.json'), JSON.stringify(bigDoc(200)));
    writeFileSync(join(work, 'file'), 'a regular file');
    const r = await runBin([join(work, 'big.json'), '--out', join(work, 'file', 'out'), '--secrets', join(work, 'secrets')]);
    assert.is(r.code, 1, `ended by itself (${r.ms} ms): ${r.err}`);
    assert.match(r.err, `${join(work, 'file')} is not a folder (ENOTDIR)`);
  } finally {
    cleanup(work);
  }
});

test('a refused secrets folder with 200+ hosts (the worker thread already started) ends the process', async () => {
  const work = tempDir();
  try {
    writeFileSync(join(work, 'big.json'), JSON.stringify(bigDoc(200)));
    const args = [join(work, 'big.json'), '--out', join(work, 'out'), '--secrets', join(work, 'secrets'), '--quiet'];
    assert.is((await runCli(args)).code, 0);
    writeFileSync(join(work, 'secrets', 'ca.key'), readFileSync(join(work, 'secrets', 'front-proxy-ca.key')));
    const r = await runBin(args);
    assert.is(r.code, 1, `ended by itself (${r.ms} ms): ${r.err}`);
    assert.match(r.err, 'ca.key: does not match the public key of ca.crt');
  } finally {
    cleanup(work);
  }
});

test('a sink failing while the worker thread packs rejects, and the worker is stopped', async () => {
  const model = modelOf(bigDoc(250));
  const compiled = compile(model, { secrets: await secretsFor(model), templates: TEMPLATES });
  const packer = openPacker(model.hosts.length);
  try {
    assert.ok(packer.helper, 'the worker path is taken');
    let exited = false;
    packer.helper.on('exit', () => {
      exited = true;
    });
    let written = 0;
    const failing = async () => {
      if (++written === 60) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    };
    const quiet = { out: () => {}, err: () => {} };
    await packer.pack(compiled, failing, quiet).then(
      () => assert.unreachable('the failure must reach the caller'),
      (error: NodeJS.ErrnoException) => assert.is(error.code, 'ENOSPC'),
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(exited, 'the worker thread was terminated by the failed pack itself');
  } finally {
    await packer.close();
  }
});

test('gen certs, gen plan and gen validate into a closed pipe end quietly, exit 0 (like `| head -1`)', async () => {
  const work = tempDir();
  try {
    writeFileSync(join(work, 'big.json'), JSON.stringify(bigDoc(240)));
    assert.is((await runCli([join(work, 'big.json'), '--out', join(work, 'out'), '--secrets', join(work, 'secrets'), '--quiet'])).code, 0);
    for (const args of [
      ['certs', '--secrets', join(work, 'secrets')],
      ['plan', join(work, 'big.json')],
      ['plan', '--json', join(work, 'big.json')],
      ['--help'],
    ]) {
      const r = await runBin(args, { closeStdout: true });
      assert.is(r.code, 0, `${args.join(' ')}: ${r.err}`);
      assert.is(withoutEndOfLife(r.err), '', args.join(' '));
    }
    const gen = await runBin([join(work, 'big.json'), '--out', join(work, 'out'), '--secrets', join(work, 'secrets')], { closeStdout: true });
    assert.is(gen.code, 0, gen.err);
    const check = await runCli(['check', join(work, 'big.json'), '--out', join(work, 'out'), '--secrets', join(work, 'secrets')]);
    assert.is(check.code, 0, 'the work is done even when nobody reads the summary');
  } finally {
    cleanup(work);
  }
});

test.run();
