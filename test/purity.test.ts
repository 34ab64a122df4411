import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO } from './helpers.js';

const SRC = join(REPO, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? sources(join(dir, n)) : n.endsWith('.ts') ? [join(dir, n)] : []));
}

/** What the pure core must not touch: files, the process, the clock, randomness. */
const FORBIDDEN: [RegExp, string][] = [
  [/from 'node:fs'|from 'fs'|require\(/, 'file system'],
  [/\bprocess\./, 'the process'],
  [/Date\.now\(|new Date\(\)/, 'the clock'],
  [/Math\.random|getRandomValues|randomBytes|randomUUID/, 'randomness'],
];

/** Only the CLI may do I/O; issuing gets its clock and entropy passed in (deps.now, deps.crypto). */
const ALLOWED: Record<string, string[]> = {
  'src/pki/issue.ts': ['randomness'],
};

test('compile\'s core (inventory, model, pki, render, bundle) touches no fs, process, clock or randomness', () => {
  const core = sources(SRC).filter((f) => !relative(SRC, f).startsWith('cli/'));
  assert.ok(core.length > 10);
  for (const file of core) {
    const rel = relative(REPO, file);
    const code = readFileSync(file, 'utf8').replace(/\/\*\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const [pattern, what] of FORBIDDEN) {
      if (ALLOWED[rel]?.includes(what)) continue;
      assert.not.match(code, pattern, `${rel} touches ${what}`);
    }
  }
});

test('issuing draws randomness only from the injected crypto', () => {
  const code = readFileSync(join(SRC, 'pki', 'issue.ts'), 'utf8');
  assert.not.match(code, /Math\.random|randomBytes|globalThis\.crypto|webcrypto/);
  assert.not.match(code, /new Date\(\)|Date\.now\(/);
});

test('imports point one way: nothing outside cli/ imports cli/', () => {
  for (const file of sources(SRC).filter((f) => !relative(SRC, f).startsWith('cli/'))) {
    assert.not.match(readFileSync(file, 'utf8'), /from '\.\.\/cli\/|from '\.\/cli\//, relative(REPO, file));
  }
});

test.run();
