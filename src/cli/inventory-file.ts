/** Reads an inventory file from disk and validates it. */
import { readFileSync } from 'node:fs';
import { validateInventory, formatProblem, InventoryError, type Problem } from '../inventory/index.js';
import { buildModel } from '../model/model.js';
import type { ClusterModel } from '../model/types.js';
import type { Console } from './console.js';

/** A validated inventory: its model and its warnings. */
export interface LoadedInventory {
  model: ClusterModel;
  warnings: Problem[];
}

/** Reads and validates an inventory file; throws InventoryError with every problem. */
export function readInventory(path: string): LoadedInventory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InventoryError(path, [{ pointer: '', severity: 'error', message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }]);
  }
  const result = validateInventory(path, text);
  if (!result.inventory) throw new InventoryError(path, result.errors);
  return { model: buildModel(result.inventory), warnings: result.warnings };
}

/** Prints inventory warnings on stderr. */
export function printWarnings(io: Console, file: string, warnings: readonly Problem[]): void {
  for (const w of warnings) io.err(formatProblem(file, w) + '\n');
}

