/**
 * Kept clusters (`npm run e2e:cluster -- --keep`): the record of each testbed left running, and `npm run e2e:down`,
 * which removes every kept one (containers, mounts, namespaces, cgroups, the scratch folder with the cluster's
 * secrets) from its record.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testbed, type TestbedRecord } from '../booted.js';

/** Where kept testbeds are recorded (tmpfs: a reboot removes them and their records together). */
export const KEPT_DIR = '/run/kubeha-e2e';

/** Writes a kept testbed's record; returns its path. */
export function recordKept(record: TestbedRecord): string {
  mkdirSync(KEPT_DIR, { recursive: true, mode: 0o700 });
  const path = join(KEPT_DIR, `kept-${record.tag}.json`);
  writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  return path;
}

/** Removes every kept testbed; returns the tags removed. */
export function downAll(): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(KEPT_DIR).filter((n) => /^kept-[a-z0-9]+\.json$/.test(n));
  } catch {
    return [];
  }
  return names.map((name) => {
    const path = join(KEPT_DIR, name);
    const record = JSON.parse(readFileSync(path, 'utf8')) as TestbedRecord;
    Testbed.down(record);
    rmSync(path, { force: true });
    return record.tag;
  });
}
