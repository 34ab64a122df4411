/** Parses inventory text (JSON or YAML) into a value plus a map from JSON pointer to line number. */
import { EVENT_ID, getScalarValue, load, parseEvents, YAMLException } from 'js-yaml';
import type { Event } from 'js-yaml';
import { scanJson } from './json-scan.js';
import { pointerToken, type Problem } from './problems.js';

/** The parsed document, and a way to find where each value starts (computed on first use: only errors need it). */
export interface ParsedText {
  value: unknown;
  lines: () => Map<string, number>;
}

/** The outcome of parsing: the document, or its syntax problems. */
export type ParseResult = { ok: true; parsed: ParsedText } | { ok: false; problems: Problem[] };

/** Parses JSON (strictly, when the file name ends in .json: no duplicate keys, at most 100 levels deep) or YAML 1.2; a leading byte order mark is allowed in both. */
export function parseInventoryText(fileName: string, source: string): ParseResult {
  const isJson = /\.json$/i.test(fileName);
  // js-yaml skips a BOM itself; for JSON it becomes a blank, so offsets and lines stay those of the file.
  const text = isJson && source.startsWith('\uFEFF') ? ' ' + source.slice(1) : source;
  let value: unknown;
  try {
    value = isJson ? JSON.parse(text) : load(text);
  } catch (error) {
    return { ok: false, problems: [syntaxProblem(text, error, isJson)] };
  }
  if (isJson) {
    const problems = scanJson(text, lineFinder(text));
    if (problems.length > 0) return { ok: false, problems };
  }
  let lines: Map<string, number> | undefined;
  return { ok: true, parsed: { value, lines: () => (lines ??= lineMap(text)) } };
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
  return lineFinder(text)(offset);
}

/** A function from offset to 1-based line, by binary search over the line starts (computed once per text). */
function lineFinder(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
}

/** An open mapping or sequence while walking YAML events: its pointer, the next index, the key just read. */
type Frame = { kind: 'map' | 'seq'; path: string; index: number; key: string | null };

/** The pointer of the value the next event starts (null: the event is a mapping key); consumes the key or index. */
function nextPointer(stack: Frame[]): string | null {
  const top = stack[stack.length - 1];
  if (!top) return '';
  if (top.kind === 'seq') return `${top.path}/${top.index++}`;
  if (top.key === null) return null;
  const path = `${top.path}/${pointerToken(top.key)}`;
  top.key = null;
  return path;
}

/** Maps the JSON pointer of every value to the line it starts on, by walking the YAML events. */
function lineMap(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const lineAt = lineFinder(text);
  let events: Event[];
  try {
    events = parseEvents(text, {});
  } catch {
    return lines;
  }
  const stack: Frame[] = [];
  for (const event of events) {
    if (event.type === EVENT_ID.DOCUMENT) continue;
    if (event.type === EVENT_ID.POP) {
      stack.pop();
      continue;
    }
    const path = nextPointer(stack);
    if (event.type === EVENT_ID.ALIAS) continue;
    if (path === null) {
      stack[stack.length - 1]!.key = event.type === EVENT_ID.SCALAR ? getScalarValue(text, event) : '';
      continue;
    }
    if (!lines.has(path)) lines.set(path, lineAt(event.type === EVENT_ID.SCALAR ? event.valueStart : event.start));
    if (event.type === EVENT_ID.MAPPING || event.type === EVENT_ID.SEQUENCE)
      stack.push({ kind: event.type === EVENT_ID.MAPPING ? 'map' : 'seq', path, index: 0, key: null });
  }
  return lines;
}
