/** Renders ejs templates (compiled once per template set) with strict, destructured locals. */
import ejs from 'ejs';
import type { Templates } from './context.js';

type Compiled = (locals: Record<string, unknown>) => string;
const cache = new WeakMap<Templates, Map<string, Compiled>>();

/** Renders the named template with a typed view; every name the template uses must be in the view. */
export function renderTemplate(templates: Templates, name: string, view: object): string {
  let compiled = cache.get(templates);
  if (!compiled) cache.set(templates, (compiled = new Map()));
  let fn = compiled.get(name);
  if (!fn) {
    const source = templates.get(name);
    if (source === undefined) throw new Error(`no template named ${name}`);
    fn = ejs.compile(source, { strict: true, destructuredLocals: Object.keys(view), filename: name, escape: refuseEscape }) as Compiled;
    compiled.set(name, fn);
  }
  return fn(view as Record<string, unknown>);
}

function refuseEscape(): string {
  throw new Error('templates print with <%- only: <%= would HTML-escape shell and YAML');
}

/** Quotes a string for bash with single quotes. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
