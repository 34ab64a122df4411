/** Reads an inventory file from disk and validates it. */
import { closeSync, openSync, readSync } from 'node:fs';
import { validateInventory, formatProblem, InventoryError, type Problem } from '../inventory/index.js';
import { buildModel } from '../model/model.js';
import type { ClusterModel } from '../model/types.js';
import type { Console } from './console.js';

/** A validated inventory: its model and its warnings. */
export interface LoadedInventory {
  model: ClusterModel;
  warnings: Problem[];
}

/** Largest inventory read: 4 MiB holds about 25,000 hosts written one key a line; a bigger input is a mistake (/dev/zero, a log). */
export const MAX_INVENTORY_BYTES = 4 * 1024 * 1024;

/** Reads and validates an inventory file; throws InventoryError with every problem. */
export function readInventory(path: string): LoadedInventory {
  const text = readInventoryText(path);
  const result = validateInventory(path, text);
  if (!result.inventory) throw new InventoryError(path, result.errors);
  return { model: buildModel(result.inventory), warnings: result.warnings };
}

/**
 * The file's text, read with a bounded read: no more than MAX_INVENTORY_BYTES + 1 bytes are ever read, so a
 * device, a pipe or a growing file cannot keep it reading (their size from stat says nothing: /dev/zero has 0).
 */
export function readInventoryText(path: string): string {
  const fail = (message: string) => new InventoryError(path, [{ pointer: '', severity: 'error', message }]);
  const buffer = Buffer.alloc(MAX_INVENTORY_BYTES + 1);
  let length = 0;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw fail(`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      length += n;
      if (n === 0 || length === buffer.length) break;
    }
  } catch (error) {
    throw fail(`cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  } finally {
    closeSync(fd);
  }
  if (length > MAX_INVENTORY_BYTES)
    throw fail(`larger than ${MAX_INVENTORY_BYTES / 1024 / 1024} MiB: not an inventory (kubeha reads at most ${MAX_INVENTORY_BYTES} bytes)`);
  return buffer.toString('utf8', 0, length);
}

/** Prints inventory warnings on stderr. */
export function printWarnings(io: Console, file: string, warnings: readonly Problem[]): void {
  for (const w of warnings) io.err(formatProblem(file, w) + '\n');
}
