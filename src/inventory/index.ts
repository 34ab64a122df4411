/** Inventory text in, a defaulted and checked Inventory out: parse, schema (and its defaults), the version's defaults, rules. Pure. */
import { lineFor, parseInventoryText } from './parse.js';
import type { Problem } from './problems.js';
import { checkRules } from './rules.js';
import { checkSchema } from './schema.js';
import type { Inventory } from './types.js';
import { type SchemaDefaulted, withVersionDefaults } from './version-defaults.js';

/** The outcome of reading an inventory: the inventory when there is no error, and every problem found. */
export interface ValidationResult {
  inventory: Inventory | null;
  errors: Problem[];
  warnings: Problem[];
}

/**
 * Parses and validates inventory text; never throws for bad input. `today` (YYYY-MM-DD) is the day the caller read from
 * its clock (the CLI reads it once): with it, a Kubernetes minor past its upstream end of life is a warning.
 */
export function validateInventory(fileName: string, text: string, today?: string): ValidationResult {
  const parsed = parseInventoryText(fileName, text);
  if (!parsed.ok) return { inventory: null, errors: parsed.problems, warnings: [] };
  const { value, locations } = parsed.parsed;
  const document = structuredClone(value);
  const withLine = (p: Problem): Problem => {
    const line = lineFor(locations().lines, p.pointer);
    return line === undefined ? p : { ...p, line };
  };
  const schemaProblems = checkSchema(document, (pointer) => locations().plain.get(pointer));
  if (schemaProblems.length > 0) return { inventory: null, errors: schemaProblems.map(withLine), warnings: [] };
  const inventory = withVersionDefaults(document as SchemaDefaulted);
  const problems = checkRules(inventory, today).map(withLine);
  const errors = problems.filter((p) => p.severity === 'error');
  return { inventory: errors.length ? null : inventory, errors, warnings: problems.filter((p) => p.severity === 'warning') };
}

export { InventoryError, formatProblem, type Problem } from './problems.js';
export type { Inventory, InventoryHost, Role } from './types.js';
