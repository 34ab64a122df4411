/** What JSON.parse lets through silently: duplicate keys (the last one wins) and nesting too deep to check. */
import { pointerToken, type Problem } from './problems.js';

/** Deepest nesting accepted, the same as js-yaml's limit for YAML (an inventory needs about five levels). */
export const MAX_DEPTH = 100;

type Frame = { kind: 'object'; path: string; keys: Map<string, number>; key: string | null } | { kind: 'array'; path: string; index: number };

/**
 * Walks valid JSON text without recursion and reports every duplicate key (with its JSON pointer and line) or,
 * alone, nesting deeper than MAX_DEPTH. `lineAt` maps an offset to its 1-based line.
 */
export function scanJson(text: string, lineAt: (offset: number) => number): Problem[] {
  const problems: Problem[] = [];
  const stack: Frame[] = [];
  const childPath = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    if (top.kind === 'array') return `${top.path}/${top.index++}`;
    return `${top.path}/${pointerToken(top.key ?? '')}`;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '{' || c === '[') {
      if (stack.length >= MAX_DEPTH) {
        return [{ pointer: '', severity: 'error', message: `invalid JSON: nested deeper than ${MAX_DEPTH} levels`, line: lineAt(i) }];
      }
      const path = childPath();
      stack.push(c === '{' ? { kind: 'object', path, keys: new Map(), key: null } : { kind: 'array', path, index: 0 });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === '"') {
      const end = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (top?.kind === 'object' && top.key === null) top.key = keyAt(text, i, end, top, problems, lineAt);
      else childPath();
      i = end;
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.kind === 'object') top.key = null;
    } else if (c !== ':' && !/\s/.test(c)) {
      childPath();
      while (i + 1 < text.length && !/[\s,\]}]/.test(text[i + 1]!)) i++;
    }
  }
  return problems;
}

/** Offset of the quote that closes the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i;
}

/** Reads a key; records a problem when the object already has it. */
function keyAt(text: string, start: number, end: number, frame: Frame & { kind: 'object' }, problems: Problem[], lineAt: (offset: number) => number): string {
  const key = JSON.parse(text.slice(start, end + 1)) as string;
  const line = lineAt(start);
  const first = frame.keys.get(key);
  if (first === undefined) frame.keys.set(key, line);
  else
    problems.push({
      pointer: `${frame.path}/${pointerToken(key)}`,
      severity: 'error',
      message: `duplicate key "${key}" (first on line ${first}; JSON would keep only the last)`,
      line,
    });
  return key;
}
