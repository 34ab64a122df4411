import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cleanup, REPO, runCli, tempDir } from './helpers.js';

/** Runs gen in a fresh Node process and returns the CommonJS files it loaded (ESM packages load their CJS dependencies there). */
function modulesLoadedByGen(args: string[]): string[] {
  const main = join(REPO, 'dist', 'src', 'cli', 'main.js');
  const script = `import { createRequire } from 'node:module';
    const { main } = await import(${JSON.stringify(main)});
    const code = await main(${JSON.stringify(args)});
    process.stdout.write(JSON.stringify({ code, loaded: Object.keys(createRequire(import.meta.url).cache) }));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.is(child.status, 0, child.stderr);
  const report = JSON.parse(child.stdout) as { code: number; loaded: string[] };
  assert.is(report.code, 0);
  return report.loaded;
}

test('a re-run loads neither the certificate library nor archiver: the stored PKI is checked natively, tar headers are written directly', async () => {
  const dir = tempDir();
  try {
    const args = [join(REPO, 'examples', 'runbook.json'), '--out', join(dir, 'out'), '--secrets', join(dir, 'secrets'), '--quiet'];
    assert.is((await runCli(args)).code, 0);
    const loaded = modulesLoadedByGen(args);
    assert.ok(
      loaded.some((f) => f.includes('/node_modules/')),
      'the probe sees CommonJS dependencies (ipaddr.js, ajv runtime)',
    );
    for (const pkg of ['@peculiar/x509', 'reflect-metadata', 'archiver', 'tar-stream', 'readable-stream']) {
      assert.not.ok(
        loaded.some((f) => f.includes(`/node_modules/${pkg}/`)),
        `${pkg} is loaded by a re-run`,
      );
    }
  } finally {
    cleanup(dir);
  }
});

test.run();
