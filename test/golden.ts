/** Golden-file helpers: byte-exact comparison, rewritten only with UPDATE=1. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as assert from 'uvu/assert';

/** Whether this run rewrites golden files (UPDATE=1 npm test). */
export const UPDATE = process.env.UPDATE === '1';

/** Compares bytes with a golden file byte for byte; with UPDATE=1 writes the file instead. */
export function assertGolden(path: string, actual: Buffer | string, what: string = path): void {
  const bytes = Buffer.isBuffer(actual) ? actual : Buffer.from(actual, 'utf8');
  if (UPDATE) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
    return;
  }
  assert.ok(existsSync(path), `missing golden file ${path} (run UPDATE=1 npm test and review the diff)`);
  const expected = readFileSync(path);
  if (!expected.equals(bytes)) {
    // assert.is on the text shows a readable diff; Buffer.equals above is the byte-exact verdict.
    assert.is(bytes.toString('utf8'), expected.toString('utf8'), `${what} differs from its golden file`);
    assert.unreachable(`${what} differs from its golden file in bytes that do not show as text`);
  }
}
