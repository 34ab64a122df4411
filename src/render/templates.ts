/** Renders ejs templates (compiled once per template set) with strict, destructured locals. */
import ejs from 'ejs';
import { remembered } from '../common/memo.js';
import type { RenderContext, Templates } from './context.js';

type Compiled = (locals: Record<string, unknown>) => string;
const cache = new WeakMap<Templates, Map<string, Compiled>>();

/** A step's script from the named template and a view of the host's context (none: an empty view). */
export function fromTemplate(name: string, view: (ctx: RenderContext) => object = () => ({})): (ctx: RenderContext) => string {
  return (ctx) => renderTemplate(ctx.templates, name, view(ctx));
}

/** Renders the named template with a typed view; every name the template uses must be in the view. */
export function renderTemplate(templates: Templates, name: string, view: object): string {
  const compiled = remembered(cache, templates, () => new Map<string, Compiled>());
  const fn = remembered(compiled, name, () => {
    const source = templates.get(name);
    if (source === undefined) throw new Error(`no template named ${name}`);
    return ejs.compile(source, { strict: true, destructuredLocals: Object.keys(view), filename: name, escape: refuseEscape }) as Compiled;
  });
  return fn(view as Record<string, unknown>);
}

function refuseEscape(): string {
  throw new Error('templates print with <%- only: <%= would HTML-escape shell and YAML');
}

/** Quotes a string for bash with single quotes. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
