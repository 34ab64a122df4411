/** Parses inventory text (JSON or YAML) into a value plus a map from JSON pointer to line number. */
import { EVENT_ID, getScalarValue, load, parseEvents, YAMLException } from 'js-yaml';
import type { Event } from 'js-yaml';
import { pointerToken, type Problem } from './problems.js';

/** The parsed document and where each value starts. */
export interface ParsedText {
  value: unknown;
  lines: Map<string, number>;
}

/** The outcome of parsing: the document, or the syntax problem. */
export type ParseResult = { ok: true; parsed: ParsedText } | { ok: false; problem: Problem };

/** Parses JSON (strictly, when the file name ends in .json) or YAML 1.2. */
export function parseInventoryText(fileName: string, text: string): ParseResult {
  const isJson = /\.json$/i.test(fileName);
  let value: unknown;
  try {
    value = isJson ? JSON.parse(text) : load(text);
  } catch (error) {
    return { ok: false, problem: syntaxProblem(text, error, isJson) };
  }
  return { ok: true, parsed: { value, lines: lineMap(text) } };
}

function syntaxProblem(text: string, error: unknown, isJson: boolean): Problem {
  if (error instanceof YAMLException && error.mark) {
    const reason = error.reason || error.message;
    return { pointer: '', severity: 'error', message: `invalid YAML: ${reason}`, line: error.mark.line + 1 };
  }
  const message = error instanceof Error ? error.message : String(error);
  const position = /at position (\d+)/.exec(message);
  const detail = message.replace(/ in JSON at position \d+.*$/s, '').replace(/\s*\(line \d+ column \d+\)$/, '');
  const line = position ? lineOf(text, Number(position[1])) : undefined;
  return { pointer: '', severity: 'error', message: `invalid ${isJson ? 'JSON' : 'YAML'}: ${detail}`, ...(line ? { line } : {}) };
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Maps the JSON pointer of every value to the line it starts on, by walking the YAML events. */
function lineMap(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let events: Event[];
  try {
    events = parseEvents(text, {});
  } catch {
    return lines;
  }
  type Frame = { kind: 'map' | 'seq'; path: string; index: number; key: string | null };
  const stack: Frame[] = [];
  const childPath = (): string | null => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    if (top.kind === 'seq') return `${top.path}/${top.index++}`;
    if (top.key === null) return null;
    const path = `${top.path}/${pointerToken(top.key)}`;
    top.key = null;
    return path;
  };
  for (const event of events) {
    if (event.type === EVENT_ID.DOCUMENT) continue;
    if (event.type === EVENT_ID.POP) { stack.pop(); continue; }
    if (event.type === EVENT_ID.ALIAS) { childPath(); continue; }
    const start = event.type === EVENT_ID.SCALAR ? event.valueStart : event.start;
    const path = childPath();
    if (path === null) {
      // a mapping key
      const top = stack[stack.length - 1]!;
      top.key = event.type === EVENT_ID.SCALAR ? getScalarValue(text, event) : '';
      continue;
    }
    if (!lines.has(path)) lines.set(path, lineOf(text, start));
    if (event.type === EVENT_ID.MAPPING) stack.push({ kind: 'map', path, index: 0, key: null });
    if (event.type === EVENT_ID.SEQUENCE) stack.push({ kind: 'seq', path, index: 0, key: null });
  }
  return lines;
}
