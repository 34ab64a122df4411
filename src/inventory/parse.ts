/** Parses inventory text (JSON or YAML) into a value plus a map from JSON pointer to line number. */
import { EVENT_ID, getScalarValue, load, parseEvents, SCALAR_STYLE, YAMLException } from 'js-yaml';
import type { Event } from 'js-yaml';
import { scanJson } from './json-scan.js';
import { pointerToken, type Problem } from './problems.js';

/** Where the values of a document are: the line each starts on, and the source text of each plain scalar. */
export interface Locations {
  lines: Map<string, number>;
  /** A plain (unquoted) scalar as written, by pointer: `1.30` where the value is the number 1.3. */
  plain: Map<string, string>;
}

/** The parsed document, and where its values are (computed on first use: only errors need it). */
export interface ParsedText {
  value: unknown;
  locations: () => Locations;
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
  let found: Locations | undefined;
  const locations = () => (found ??= locate(text));
  if (!isJson) {
    const merges = mergeKeyProblems(value, locations);
    if (merges.length > 0) return { ok: false, problems: merges };
  }
  return { ok: true, parsed: { value, locations } };
}

/** Every `<<` key: a YAML 1.1 merge key, which YAML 1.2 (and so js-yaml's core schema) reads as an ordinary key. */
function mergeKeyProblems(value: unknown, locations: () => Locations): Problem[] {
  const problems: Problem[] = [];
  const walk = (node: unknown, path: string): void => {
    if (node === null || typeof node !== 'object') return;
    for (const [key, child] of Object.entries(node)) {
      const at = `${path}/${pointerToken(key)}`;
      if (key === '<<') {
        const line = lineFor(locations().lines, at);
        problems.push({ pointer: at, severity: 'error', message: MERGE_KEY, ...(line === undefined ? {} : { line }) });
      } else walk(child, at);
    }
  };
  walk(value, '');
  return problems;
}

const MERGE_KEY =
  'YAML merge keys ("<<") are not supported: kubeha reads YAML 1.2, which has none; write the keys out (anchors and aliases such as &a and *a alone work)';

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

/** The line of the value at a pointer, or of its nearest ancestor that exists in the text (an alias has none of its own). */
export function lineFor(lines: Map<string, number>, pointer: string): number | undefined {
  for (let p = pointer; ; p = p.slice(0, p.lastIndexOf('/'))) {
    const line = lines.get(p);
    if (line !== undefined) return line;
    if (p === '') return undefined;
  }
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

/** Maps the JSON pointer of every value to the line it starts on (and of plain scalars to their text), by walking the YAML events. */
function locate(text: string): Locations {
  const lines = new Map<string, number>();
  const plain = new Map<string, string>();
  const lineAt = lineFinder(text);
  let events: Event[];
  try {
    events = parseEvents(text, {});
  } catch {
    return { lines, plain };
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
    if (event.type === EVENT_ID.SCALAR && event.style === SCALAR_STYLE.PLAIN && !plain.has(path)) plain.set(path, text.slice(event.valueStart, event.valueEnd));
    if (event.type === EVENT_ID.MAPPING || event.type === EVENT_ID.SEQUENCE)
      stack.push({ kind: event.type === EVENT_ID.MAPPING ? 'map' : 'seq', path, index: 0, key: null });
  }
  return { lines, plain };
}
