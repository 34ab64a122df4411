/** Problems found in an inventory, and how they are printed. */

/** One problem: where (a JSON pointer, "" for the whole document) and what. */
export interface Problem {
  pointer: string;
  message: string;
  line?: number;
  severity: 'error' | 'warning';
}

/** Thrown when an input file is invalid; carries every problem found. */
export class InventoryError extends Error {
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(problems.map((p) => formatProblem(file, p)).join('\n'));
    this.name = 'InventoryError';
  }
}

/** Formats a problem as `FILE POINTER: message (line N)`, the pointer as ajv writes it. */
export function formatProblem(file: string, problem: Problem): string {
  const where = problem.pointer === '' ? '' : ` ${problem.pointer}`;
  const tag = problem.severity === 'warning' ? 'warning: ' : '';
  const line = problem.line === undefined ? '' : ` (line ${problem.line})`;
  return `${file}${where}: ${tag}${problem.message}${line}`;
}

/** Escapes one key for use in a JSON pointer (RFC 6901). */
export function pointerToken(key: string | number): string {
  return String(key).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Builds a JSON pointer from its keys. */
export function pointer(...keys: (string | number)[]): string {
  return keys.map((k) => '/' + pointerToken(k)).join('');
}
